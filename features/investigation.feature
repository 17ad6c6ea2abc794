Feature: Investigating with a restricted role
  Evidence the investigator cannot read leaves the decision open; kmslab names the missing read permission.

  Scenario Outline: investigation <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | investigator-no-key-policy-read |
