Feature: Runbook step 7: grants and grant tokens
  A grant must cover the operation and its constraints; a new grant needs its token until it propagates.

  Scenario Outline: grants <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | grant-constraint-unmet |
      | grant-limit-reached |
      | grant-operation-missing |
      | grant-token-invalid |
      | grant-token-needed |
