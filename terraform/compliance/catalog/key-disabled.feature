Feature: key-disabled: the plan encodes the break
  key-state.html: a Disabled key fails every cryptographic operation with DisabledException.

  Scenario: the scenario's key is planned disabled
    Given I have aws_kms_key defined
    When its address metadata has "module.scenario..key-disabled...module.a0.aws_kms_key.*" regex
    Then it must contain is_enabled
    And its value must be false

  Scenario: the other scenarios' keys stay enabled
    Given I have aws_kms_key defined
    When its address metadata has "module.scenario..(principal-role|key-policy|boundary|grant-op).*" regex
    Then it must contain is_enabled
    And its value must be true
