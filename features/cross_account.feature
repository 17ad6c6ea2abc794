Feature: Runbook step 7: cross-account access
  Cross-account use needs the key policy of the owner and the caller's own IAM policy, and the key ARN.

  Scenario Outline: cross_account <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | cross-account-iam-missing |
      | cross-account-key-id-not-arn |
      | cross-account-key-policy-missing |
