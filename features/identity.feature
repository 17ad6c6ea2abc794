Feature: Runbook step 5: identity, boundary, session and organization policies
  IAM allows count only where the key policy delegates to IAM; boundaries, session policies, SCPs and RCPs cap them.

  Scenario Outline: identity <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | aws-managed-key-direct |
      | credentials-expired |
      | credentials-wrong-secret |
      | boundary-blocks-named-role |
      | iam-explicit-deny |
      | iam-managed-policy-other-key |
      | iam-no-allow |
      | iam-resource-alias-arn |
      | iam-resource-other-region |
      | iam-user-no-allow |
      | rcp-denies-external |
      | scp-denies-decrypt |
      | session-policy-blocks |
