"""What kmslab knows about AWS itself, in one place at the bottom of the layering.

Every other package imports these facts; none keeps a copy. The modules here import nothing
of harness but `errors`, and nothing heavy: `clients` (boto3 sessions) is the one module that
needs boto3, and it is imported only by who makes calls.

- `arns`: the one ARN and principal parser (typed results).
- `operations`: KMS operation tables (cross-account, grant, per key spec and usage) and the
  read-only operations the evidence guard and collectors allow.
- `errors`: one exception class per AWS error code kmslab serves or reads, with AWS's documented
  message template and HTTP status.
- `codes`: throttling and retryable error codes.
- `policies`: the default key policy.
- `clients`: boto3 sessions and clients that behave like the AWS CLI's options.
"""
