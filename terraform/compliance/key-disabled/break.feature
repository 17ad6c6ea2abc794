Feature: key-disabled: the plan encodes the break
  The scenario's key must be planned disabled (key-state.html: a Disabled key fails every
  cryptographic operation with DisabledException).

  Scenario: the key is planned disabled
    Given I have aws_kms_key defined
    Then it must contain is_enabled
    And its value must be false

  Scenario: the key policy still enables IAM for the account
    Given I have aws_kms_key defined
    Then it must contain policy
    And it must contain Statement
    And it must contain Principal
    And it must contain AWS
    And its value must match the "arn:aws:iam::111111111111:root" regex
