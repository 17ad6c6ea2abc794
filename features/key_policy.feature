Feature: Runbook steps 3 and 4: the key policy
  The key policy must allow the principal (or its account), its conditions must be met, and no Deny may match.

  Scenario Outline: key_policy <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | condition-caller-account |
      | condition-encryption-context |
      | condition-source-vpce-direct |
      | condition-via-service-direct-call |
      | key-policy-deny-unless-via-service |
      | key-policy-explicit-deny |
      | key-policy-no-root-statement |
      | key-policy-too-large |
      | principal-orphaned-unique-id |
      | principal-role-not-listed |
      | principal-session-arn-listed |
      | principal-user-instead-of-role |
      | principal-wrong-account |
