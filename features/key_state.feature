Feature: Runbook step 2: key state
  A key that is disabled, pending deletion or import, unavailable or in transition fails every cryptographic call.

  Scenario Outline: key_state <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | key-creating |
      | key-disabled-user-encrypt |
      | key-disabled |
      | key-not-found |
      | key-pending-deletion-data-key |
      | key-pending-deletion |
      | key-pending-import |
      | key-unavailable-custom-store |
      | key-updating |
