"""boto3 against a running `cogsync serve`: the calls a Python user makes first.

Usage: python3 boto3_smoke.py URL
Exits non-zero on the first wrong answer.
"""

import sys

import boto3
from botocore.config import Config

POOL = "us-east-1:00000000-0000-4000-8000-0000000000b3"
IDENTITY = "us-east-1:00000000-0000-4000-8000-00000000b0b3"


def main(url: str) -> None:
    client = boto3.client(
        "cognito-sync",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="test-secret",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    ids = {"IdentityPoolId": POOL, "IdentityId": IDENTITY, "DatasetName": "prefs"}

    first = client.list_records(**ids)
    assert first["DatasetExists"] is False, first
    assert first["DatasetSyncCount"] == 0, first
    token = first["SyncSessionToken"]

    written = client.update_records(
        **ids,
        SyncSessionToken=token,
        DeviceId="py-device",
        RecordPatches=[
            {"Op": "replace", "Key": "colour", "Value": "teal", "SyncCount": 0},
            {"Op": "remove", "Key": "ghost", "SyncCount": 0},
        ],
    )
    records = {r["Key"]: r for r in written["Records"]}
    assert records["colour"]["SyncCount"] == 1 and records["colour"]["Value"] == "teal", written
    assert "Value" not in records["ghost"], written
    # botocore turns epoch-second numbers into datetimes: they must parse.
    assert records["colour"]["LastModifiedDate"].year >= 2024, written

    try:
        client.update_records(
            **ids,
            SyncSessionToken=token,
            RecordPatches=[{"Op": "replace", "Key": "colour", "Value": "red", "SyncCount": 0}],
        )
        raise AssertionError("a stale write was accepted")
    except client.exceptions.ResourceConflictException as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    try:
        client.update_records(**ids, SyncSessionToken="garbage", RecordPatches=[])
        raise AssertionError("a garbage token was accepted")
    except client.exceptions.InvalidParameterException:
        pass

    again = client.list_records(**ids, LastSyncCount=0, MaxResults=1)
    assert again["Count"] == 1 and "NextToken" in again, again
    rest = client.list_records(**ids, LastSyncCount=0, MaxResults=1, NextToken=again["NextToken"])
    keys = sorted(r["Key"] for r in again["Records"] + rest["Records"])
    assert keys == ["colour", "ghost"], keys

    described = client.describe_dataset(**ids)["Dataset"]
    assert described["NumRecords"] == 1 and described["DataStorage"] == len("colour") + len("teal")
    datasets = client.list_datasets(IdentityPoolId=POOL, IdentityId=IDENTITY)["Datasets"]
    assert [d["DatasetName"] for d in datasets] == ["prefs"], datasets
    usage = client.describe_identity_usage(IdentityPoolId=POOL, IdentityId=IDENTITY)
    assert usage["IdentityUsage"]["DatasetCount"] == 1, usage
    client.delete_dataset(**ids)
    try:
        client.describe_dataset(**ids)
        raise AssertionError("a deleted dataset was described")
    except client.exceptions.ResourceNotFoundException:
        pass
    print("boto3 smoke: every call answered as the service would")


if __name__ == "__main__":
    main(sys.argv[1])
