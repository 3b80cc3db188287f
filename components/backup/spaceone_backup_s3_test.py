"""spaceone_backup.py with its backups in S3 (eks), run against moto's S3 and mongomock.

The Job on EKS reaches a real bucket with its role (IRSA), which cannot run here; this proves
everything of ours around it: the objects a backup becomes (manifest last), keep, incomplete
uploads, a restore that fetches, verifies and loads a backup, its ledger kept in the bucket
across pods, and a damaged object refused. Run by tests/backup_s3_test.go in the environment
scripts/runtimes/requirements-s3-standin.txt pins (the backup image's boto3 and pymongo).
"""
import datetime
import importlib
import json
import os
import sys
import tempfile
import unittest

import boto3
import mongomock
from moto import mock_aws

BUCKET = "spaceone-backups-test"
os.environ.update({
    "SPACEONE_RELEASE": "1.12.12", "BACKUP_BUCKET": BUCKET, "BACKUP_KEEP": "2",
    "SPACEONE_DATABASES": "identity,inventory,secret_data",
    # moto's S3 takes any key; on EKS the pod has none, only its role's token
    "AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto", "AWS_DEFAULT_REGION": "us-east-1",
})
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class Clock:
    """now() for the script: a minute later at every call (backup names are to the second)."""

    def __init__(self):
        self.t = datetime.datetime(2026, 12, 7, 3, 0, tzinfo=datetime.timezone.utc)

    def __call__(self):
        self.t += datetime.timedelta(minutes=1)
        return self.t


class BackupToS3(unittest.TestCase):
    def setUp(self):
        self.aws = mock_aws()
        self.aws.start()
        self.s3 = boto3.client("s3")
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.sb = importlib.import_module("spaceone_backup")
        self.mongo = mongomock.MongoClient()
        self.sb.mongo = lambda: self.mongo
        self.sb.now = Clock()
        self.stopped = []
        self.sb.Kube = lambda: "kube"
        self.sb.stop_writers = lambda kube: self.stopped.append("stop")
        self.sb.start_writers = lambda kube: self.stopped.append("start")
        self.new_pod()
        self.mongo.identity.user.insert_many([{"_id": "admin", "name": "Admin"}, {"_id": "u1", "name": "User One"}])
        self.mongo.identity.user.create_index([("name", 1)], name="name_1", unique=True)
        self.mongo.secret_data.secret_data.insert_one({"_id": "secret-1", "data": {"key": "AKIA-not-a-real-key"}})

    def tearDown(self):
        self.aws.stop()

    def new_pod(self):
        """A new Job's pod: an empty scratch volume, nothing in memory."""
        self.sb.ROOT = tempfile.mkdtemp()
        self.sb.LEDGER = os.path.join(self.sb.ROOT, self.sb.LEDGER_NAME)
        self.sb.STORE = None

    def keys(self, prefix=""):
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))

    def test_a_backup_is_objects_with_its_manifest_and_nothing_left_in_scratch(self):
        name = self.sb.take("asked for")
        keys = self.keys(name + "/")
        self.assertIn(name + "/manifest.json", keys)
        self.assertIn(name + "/mongodb/identity/user.bson", keys)
        self.assertIn(name + "/mongodb/inventory/", "".join(keys) + name + "/mongodb/inventory/")  # empty db: no files
        manifest = json.loads(self.s3.get_object(Bucket=BUCKET, Key=name + "/manifest.json")["Body"].read())
        self.assertEqual(manifest["release"], "1.12.12")
        self.assertEqual(manifest["mongodb"]["identity"]["collections"]["user"]["documents"], 2)
        self.assertEqual(sorted(manifest["mongodb"]), ["identity", "inventory", "secret_data"])
        self.assertEqual(os.listdir(self.sb.ROOT), [], "the backup stays in the pod's scratch space")

    def test_keep_deletes_the_oldest_and_versioning_keeps_them_recoverable(self):
        names = [self.sb.take("asked for") for _ in range(3)]
        self.sb.prune(2)
        self.assertEqual([n for n, _ in self.sb.backups()], names[1:])
        self.assertEqual(self.keys(names[0] + "/"), [])
        versions = self.s3.list_object_versions(Bucket=BUCKET, Prefix=names[0] + "/manifest.json")
        self.assertTrue(versions.get("Versions"), "a deleted backup's versions stay until the lifecycle rule expires them")

    def test_an_interrupted_upload_is_no_backup_and_is_cleaned_a_day_later(self):
        store = self.sb.store()
        upload = store.s3.upload_file

        def cut(path, bucket, key):
            if key.endswith("manifest.json"):
                raise OSError("pod killed")
            upload(path, bucket, key)
        store.s3.upload_file = cut
        with self.assertRaises(OSError):
            self.sb.take("asked for")
        store.s3.upload_file = upload
        self.assertEqual(self.sb.backups(), [])
        self.assertTrue(self.keys(), "the objects uploaded before the cut are there")
        self.sb.store().clean()
        self.assertTrue(self.keys(), "an upload younger than a day may still be running")
        self.sb.now.t += datetime.timedelta(days=2)
        self.sb.store().clean()
        self.assertEqual(self.keys(), [])

    def test_restore_from_the_bucket_in_a_new_pod_with_its_ledger_there(self):
        name = self.sb.take("asked for")
        self.mongo.identity.user.delete_many({})
        self.mongo.identity.user.insert_one({"_id": "intruder"})
        self.mongo.secret_data.secret_data.drop()
        self.new_pod()
        self.sb.restore(name)
        self.assertEqual(sorted(d["_id"] for d in self.mongo.identity.user.find()), ["admin", "u1"])
        self.assertEqual(self.mongo.secret_data.secret_data.find_one({"_id": "secret-1"})["data"], {"key": "AKIA-not-a-real-key"})
        self.assertIn("name_1", self.mongo.identity.user.index_information())
        self.assertEqual(self.stopped, ["stop", "start"])
        ledger = [json.loads(line) for line in
                  self.s3.get_object(Bucket=BUCKET, Key="restores.jsonl")["Body"].read().decode().splitlines()]
        self.assertEqual([e["step"] for e in ledger], ["backed up", "writers stopped", "data restored", "finished"])
        before = ledger[0]["backup"]
        self.assertIn(before, [n for n, _ in self.sb.backups()], "the data before the restore is a backup in the bucket")
        # the same name again, from yet another pod: nothing to do
        self.new_pod()
        self.sb.restore(name)
        self.assertEqual(self.stopped, ["stop", "start"])

    def test_an_interrupted_restore_resumes_from_the_ledger_in_the_bucket(self):
        name = self.sb.take("asked for")
        load = self.sb.load_mongodb

        def killed(*a):
            raise OSError("pod killed")
        self.sb.load_mongodb = killed
        with self.assertRaises(OSError):
            self.sb.restore(name)
        self.sb.load_mongodb = load
        self.new_pod()
        self.sb.restore(name)
        ledger = [json.loads(line) for line in
                  self.s3.get_object(Bucket=BUCKET, Key="restores.jsonl")["Body"].read().decode().splitlines()]
        self.assertEqual([e["step"] for e in ledger],
                         ["backed up", "writers stopped", "writers stopped", "data restored", "finished"])
        self.assertEqual(len({e["attempt"] for e in ledger}), 1, "the second pod resumed the first attempt")
        self.assertEqual(len(self.sb.backups()), 2, "one backup of the data before, not two")

    def test_a_damaged_object_is_refused_before_anything_is_touched(self):
        name = self.sb.take("asked for")
        self.s3.put_object(Bucket=BUCKET, Key=name + "/mongodb/identity/user.bson", Body=b"not what was backed up")
        self.new_pod()
        with self.assertRaises(SystemExit) as e:
            self.sb.restore(name)
        self.assertIn("is damaged", str(e.exception))
        self.assertEqual(self.stopped, [])

    def test_a_name_not_in_the_bucket_lists_what_is(self):
        name = self.sb.take("asked for")
        with self.assertRaises(SystemExit) as e:
            self.sb.restore("spaceone-1.12.12-20200101-000000")
        self.assertIn("bucket " + BUCKET, str(e.exception))
        self.assertIn(name, str(e.exception))


if __name__ == "__main__":
    unittest.main()
