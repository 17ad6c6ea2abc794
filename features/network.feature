Feature: Runbook step 8: VPC endpoint policies
  A VPC endpoint policy caps what calls through the endpoint may do.

  Scenario Outline: network <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | vpce-policy-explicit-deny |
      | vpce-policy-no-allow |
