Feature: Walking skeleton: a disabled key, end to end (issue 2)
  The application role, with credentials the lab issued through STS AssumeRole, cannot
  decrypt because its key was disabled; kmslab shows why and the fix restores access.

  Scenario: The application cannot decrypt after its key was disabled
    Given the lab with the scenario "key-disabled"
    When the principal makes the call
    Then it fails with "DisabledException" and the message "<key ARN> is disabled."
    And the diagnosis reports "KEY_DISABLED" citing "kms:DescribeKey" and a fix that calls "enable-key"
    When the fix is applied
    Then the call succeeds
    And the diagnosis says NO_FAULT_FOUND

  # Terraform holds the key's state: the provider waits ~30 s after each DisableKey and
  # EnableKey, and the data is encrypted between two applies, so this takes about a minute.
  @terraform @slow
  Scenario: The same break and fix, applied by Terraform
    Given the lab with the scenario "key-disabled" applied by Terraform
    Then the Terraform state has the key "data" disabled
    When the principal makes the call
    Then it fails with "DisabledException" and the message "<key ARN> is disabled."
    And the diagnosis reports "KEY_DISABLED" citing "kms:DescribeKey" and a fix that calls "enable-key"
    When the fix is applied through Terraform
    Then the Terraform state has the key "data" enabled
    And the call succeeds
    And the diagnosis says NO_FAULT_FOUND
