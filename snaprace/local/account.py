"""The emulated account's limits, as the operator's `snaprace preflight` reads them: Service Quotas
for Amazon Rekognition (moto knows only VPC's) and Lambda's account settings.

Quota names follow Service Quotas' wording for Rekognition's per-operation TPS quotas; preflight
finds them by the operation named in them. The quota is the emulator's throttle (`local up
--rekognition-tps`), or UNTHROTTLED_TPS when the emulator does not throttle.
"""

import json

UNTHROTTLED_TPS = 50.0
OPERATIONS = ("DetectText", "IndexFaces", "SearchFaces", "SearchFacesByImage", "DetectFaces")
LAMBDA_CONCURRENCY = 1000  # the default Lambda quota of an established account
ACCOUNT_SETTINGS_PATH = "/2016-08-19/account-settings"


def rekognition_quotas(tps: float | None, region: str, account: str) -> dict:
    value = tps or UNTHROTTLED_TPS
    return {
        "Quotas": [
            {
                "ServiceCode": "rekognition",
                "ServiceName": "Amazon Rekognition",
                "QuotaArn": f"arn:aws:servicequotas:{region}:{account}:rekognition/local-{operation}",
                "QuotaCode": f"local-{operation}",
                "QuotaName": "Transactions per second per account for the Amazon Rekognition Image "
                f"operation {operation}",
                "Value": value,
                "Unit": "None",
                "Adjustable": True,
                "GlobalQuota": False,
            }
            for operation in OPERATIONS
        ]
    }


def lambda_account_settings() -> bytes:
    return json.dumps(
        {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": LAMBDA_CONCURRENCY,
                "UnreservedConcurrentExecutions": LAMBDA_CONCURRENCY,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
        }
    ).encode()
