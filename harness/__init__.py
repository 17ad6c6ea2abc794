"""kmslab: reproduce, diagnose and assert AWS KMS decryption failures."""

__version__ = "0.1.0"
