Feature: Runbook step 1: AWS service health
  When AWS Health reports a KMS event in the Region, the failure may be AWS-side.

  Scenario Outline: health <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | kms-service-event |
