Feature: Runbook step 6: aliases and key identification
  An alias must exist where it is resolved and point to the key that encrypted the data.

  Scenario Outline: alias <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | alias-name-cross-account |
      | alias-typo |
      | alias-name-same-named-local |
      | alias-wrong-target |
      | incorrect-key-id |
