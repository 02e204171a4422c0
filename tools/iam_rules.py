"""APIs without resource-level permissions: `Resource: "*"` is the only resource they accept.
Shared by tools/check_iam.py (the transformed template) and tests/test_template.py."""

RESOURCELESS_ACTIONS = frozenset(
    {
        "rekognition:DetectText",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    }
)
