Feature: Healthy controls: no false alarms
  Healthy setups whose call must succeed and whose diagnosis must find no fault.

  Scenario Outline: controls <id> is healthy and the diagnosis finds no fault
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | control-alias-arn-cross-account |
      | control-cross-account |
      | control-grant-based |
      | control-grant-token |
      | control-same-account-role |
      | control-user-encrypt |
      | control-via-service |
      | control-vpce-allowed |
