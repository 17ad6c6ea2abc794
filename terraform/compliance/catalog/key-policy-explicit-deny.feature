Feature: key-policy-explicit-deny: the key policy has a matching Deny
  policy-evaluation.html: an explicit Deny in the key policy overrides every Allow.

  Scenario: a Deny statement is planned
    Given I have aws_kms_key defined
    When its address metadata has "module.scenario..key-policy-explicit-deny.*" regex
    Then it must contain policy
    And it must contain Statement
    And it must contain Effect
    And any of its values must match the "Deny" regex

  Scenario: the Deny covers kms:Decrypt
    Given I have aws_kms_key defined
    When its address metadata has "module.scenario..key-policy-explicit-deny.*" regex
    Then it must contain policy
    And it must contain Statement
    And it must contain Action
    And any of its values must match the "kms:Decrypt" regex
