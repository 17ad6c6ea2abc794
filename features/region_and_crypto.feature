Feature: Beyond the runbook: Regions, multi-Region keys, ciphertext, key usage and quotas
  Failures the runbook's last paragraph lists: Region, replicas, ciphertext, encryption context, usage, throttling.

  Scenario Outline: region_and_crypto <id> fails as AWS documents, is diagnosed, and is fixed
    Given the lab with the scenario "<id>"
    When the principal makes the call
    Then it fails with the expected code and message
    And the diagnosis' primary finding is the expected one with evidence
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

    Examples:
      | id |
      | ciphertext-double-base64 |
      | ciphertext-truncated |
      | encryption-context-mismatch |
      | key-usage-sign-verify |
      | multi-region-replica-diverged |
      | multi-region-replica-missing |
      | throttled |
      | wrong-region |
