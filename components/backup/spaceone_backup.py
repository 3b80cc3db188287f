#!/usr/bin/env python3
"""spaceone-pulumi backups: the platform's data to the backup volume (or bucket), and back.

  spaceone_backup.py backup [REASON]   take a backup now; its name is the last line printed
  spaceone_backup.py restore NAME      put backup NAME back into this platform

A backup is a directory /backups/<name> (name: spaceone-<release>-<UTC time>) holding
  mongodb/<database>/<collection>.bson   every document, one BSON document after another
                                         (the format of mongodump's .bson files)
  mongodb/<database>/<collection>.metadata.json   the collection's indexes
  consul/kv.json                         with Consul (1.10.4): every key, as `consul kv export`
                                         writes them (the secret service's payloads live there)
  manifest.json                          release, time, reason, and per file: documents or keys,
                                         bytes, SHA-256
It is written to a hidden directory first and renamed when complete, so a backup that was
interrupted is never taken for one. With BACKUP_BUCKET (eks) the backups live in that S3 bucket
instead, as objects <name>/<file> with manifest.json uploaded last (a backup without one is
incomplete), and /backups is only the Job's scratch space; the Job reaches the bucket with the
role of its ServiceAccount (IRSA), which boto3 finds from the environment EKS gives the pod. Only backups taken by schedule or by `make backup` count
against `keep`; those taken before a restore stay until deleted by hand.

A restore refuses a backup of another release, or one whose files do not match its manifest,
before it touches anything. Then it takes a backup of what is there now, stops every
Deployment that writes (namespace and plugin namespace; their replica counts kept in an
annotation), replaces each database of the backup and Consul's keys, and starts them again.
Each step is recorded in restores.jsonl (on the volume, or in the bucket); run again after an interruption, it
resumes: the data taken before the first attempt is not overwritten by a second "before"
backup, and stopped Deployments are found by their annotation.

Runs in the image of the catalogue's dataJobs service (python3 with pymongo and bson from
python-core's base), on Python 3.8 and later.
Nothing secret is printed.
"""
import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import ssl
import sys
import time
import urllib.error
import urllib.request

import bson
import pymongo
from bson import json_util
from pymongo.errors import PyMongoError

ROOT = os.environ.get("BACKUP_DIR", "/backups")
BUCKET = os.environ.get("BACKUP_BUCKET", "")
RELEASE = os.environ["SPACEONE_RELEASE"]
NAME = re.compile(r"^spaceone-(\d+\.\d+\.\d+)-(\d{8}-\d{6})$")
# MongoDB's own databases. Its "config" is also SpaceONE's config service's database: there
# only MongoDB's own collections (system.*, and a replica set's or a shard's) are left out.
SYSTEM_DATABASES = ("admin", "local")
MONGODB_CONFIG_COLLECTIONS = ("transactions", "image_collection", "migrationCoordinators", "rangeDeletions",
                              "tenantMigrationDonors", "tenantMigrationRecipients", "chunks", "collections",
                              "databases", "shards", "version", "mongos", "lockpings", "locks", "changelog")


def ours(db, coll):
    """Whether a collection is SpaceONE's, not MongoDB's own."""
    return not coll.startswith("system.") and not (db == "config" and coll in MONGODB_CONFIG_COLLECTIONS)
LEDGER_NAME = "restores.jsonl"
LEDGER = os.path.join(ROOT, LEDGER_NAME)
# The restores this MongoDB holds (a database of ours, written after the data): a restore Job
# that runs again on the same platform finds its backup there and does nothing.
MARKS_DB, RESTORES = "spaceone_pulumi", "restores"
REPLICAS = "spaceone.dev/replicas-before-restore"
BATCH = 1000


def log(msg):
    print("spaceone backup: " + msg, flush=True)


def fail(msg):
    sys.exit("spaceone backup: " + msg)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_entry(path, **extra):
    entry = {"bytes": os.path.getsize(path), "sha256": sha256(path)}
    entry.update(extra)
    return entry


# --- MongoDB -----------------------------------------------------------------------------


def mongo():
    deadline = time.time() + 120
    while True:
        try:
            client = pymongo.MongoClient(os.environ["MONGO_HOST"], int(os.environ["MONGO_PORT"]),
                                         username=os.environ["MONGO_ROOT_USERNAME"],
                                         password=os.environ["MONGO_ROOT_PASSWORD"],
                                         authSource="admin", serverSelectionTimeoutMS=5000)
            client.admin.command("ping")
            return client
        except PyMongoError as e:
            if time.time() > deadline:
                fail("cannot log in to MongoDB at %s as root: %s" % (os.environ["MONGO_HOST"], type(e).__name__))
            time.sleep(2)


def dump_mongodb(client, into):
    """Every database but MongoDB's own, collection by collection, and every database of the
    platform's services (SPACEONE_DATABASES) that holds nothing yet (MongoDB creates a
    database with its first document): as empty, so a restore empties it too."""
    databases = {}
    present = client.list_database_names()
    expected = [db for db in os.environ.get("SPACEONE_DATABASES", "").split(",") if db]
    for db in sorted(set(present) | set(expected)):
        if db in SYSTEM_DATABASES:
            continue
        collections = {}
        os.makedirs(os.path.join(into, db))
        for coll in sorted(client[db].list_collection_names() if db in present else []):
            if not ours(db, coll):
                continue
            data = os.path.join(into, db, coll + ".bson")
            n = 0
            with open(data, "wb") as f:
                for doc in client[db][coll].find({}, sort=[("_id", 1)]):
                    f.write(bson.encode(doc))
                    n += 1
            meta = os.path.join(into, db, coll + ".metadata.json")
            indexes = [dict(ix) for ix in client[db][coll].list_indexes()]
            with open(meta, "w") as f:
                f.write(json_util.dumps({"collectionName": coll, "indexes": indexes}))
            collections[coll] = file_entry(data, documents=n)
            collections[coll]["metadata"] = file_entry(meta)
        databases[db] = {"collections": collections,
                         "bytes": sum(c["bytes"] for c in collections.values())}
    return databases


def load_mongodb(client, backup, manifest):
    for db, d in sorted(manifest["mongodb"].items()):
        # Collection by collection, never the database: "config" is also MongoDB's own.
        for coll in client[db].list_collection_names():
            if ours(db, coll):
                client[db][coll].drop()
        for coll, c in sorted(d["collections"].items()):
            target = client[db][coll]
            with open(os.path.join(backup, "mongodb", db, coll + ".metadata.json")) as f:
                meta = json_util.loads(f.read())
            for ix in meta.get("indexes", []):
                if ix.get("name") == "_id_":
                    continue
                keys = list(ix["key"].items())
                opts = {k: v for k, v in ix.items() if k in ("name", "unique", "sparse", "expireAfterSeconds", "partialFilterExpression")}
                target.create_index(keys, **opts)
            n, batch = 0, []
            with open(os.path.join(backup, "mongodb", db, coll + ".bson"), "rb") as f:
                for doc in bson.decode_file_iter(f):
                    batch.append(doc)
                    if len(batch) == BATCH:
                        target.insert_many(batch, ordered=True)
                        n, batch = n + len(batch), []
            if batch:
                target.insert_many(batch, ordered=True)
                n += len(batch)
            if n != c["documents"] or target.count_documents({}) != n:
                fail("restoring %s.%s: %d documents loaded, the manifest says %d" % (db, coll, n, c["documents"]))
        log("database %s: %d collections, %d documents" % (
            db, len(d["collections"]), sum(c["documents"] for c in d["collections"].values())))


# --- Consul --------------------------------------------------------------------------------


def consul(method, path, body=None):
    url = "http://%s:%s/v1/kv/%s" % (os.environ["CONSUL_HOST"], os.environ["CONSUL_PORT"], path)
    req = urllib.request.Request(url, method=method, data=body)
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            fail("Consul %s %s: %s" % (method, path.split("?")[0] or "/", e.code))
        except OSError as e:
            if time.time() > deadline:
                fail("cannot reach Consul at %s: %s" % (os.environ["CONSUL_HOST"], e))
            time.sleep(2)


def dump_consul(into):
    raw = consul("GET", "?recurse=true")
    entries = json.loads(raw) if raw else []
    export = [{"key": e["Key"], "flags": e.get("Flags", 0), "value": e.get("Value") or ""} for e in entries]
    os.makedirs(into)
    path = os.path.join(into, "kv.json")
    with open(path, "w") as f:
        json.dump(export, f, indent=1, sort_keys=True)
    return file_entry(path, keys=len(export))


def load_consul(backup):
    with open(os.path.join(backup, "consul", "kv.json")) as f:
        export = json.load(f)
    consul("DELETE", "?recurse=true")
    for e in export:
        consul("PUT", "%s?flags=%d" % (urllib.request.quote(e["key"]), e["flags"]), base64.b64decode(e["value"]))
    log("consul: %d keys" % len(export))


# --- where the backups are -----------------------------------------------------------------


class Volume:
    """Backups as directories of the backup volume, mounted at ROOT (local clusters)."""

    where = "the backup volume"

    def names(self):
        return [n for n in os.listdir(ROOT) if NAME.match(n) and os.path.exists(os.path.join(ROOT, n, "manifest.json"))]

    def manifest(self, name):
        with open(os.path.join(ROOT, name, "manifest.json")) as f:
            return json.load(f)

    def fetch(self, name):
        """The local directory that holds backup name."""
        return os.path.join(ROOT, name)

    def keep(self, name):
        """Backup name, complete in ROOT, stays where it is."""

    def delete(self, name):
        shutil.rmtree(os.path.join(ROOT, name))

    def clean(self):
        for name in os.listdir(ROOT):  # interrupted backups
            if name.startswith(".spaceone-") and name.endswith(".partial"):
                shutil.rmtree(os.path.join(ROOT, name), ignore_errors=True)

    def pull(self, fname):
        """ROOT/fname as the backups' place holds it (on the volume: already there)."""

    def push(self, fname):
        """ROOT/fname kept where the backups are (on the volume: already there)."""


class Bucket:
    """Backups as objects <name>/<file> of an S3 bucket (eks), each written to ROOT first and
    uploaded with its manifest last; a restore downloads its backup to ROOT."""

    def __init__(self, bucket):
        import boto3  # in the dataJobs image (python-core's requirements); only S3 needs it
        from botocore.exceptions import ClientError
        self.bucket, self.s3, self.error = bucket, boto3.client("s3"), ClientError
        self.where = "bucket " + bucket

    def _pages(self, **kw):
        return self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, **kw)

    def _prefixes(self):
        names = [p["Prefix"].rstrip("/") for page in self._pages(Delimiter="/") for p in page.get("CommonPrefixes", [])]
        return [n for n in names if NAME.match(n)]

    def _keys(self, name):
        return [o["Key"] for page in self._pages(Prefix=name + "/") for o in page.get("Contents", [])]

    def _missing(self, e):
        return e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")

    def _exists(self, key):
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except self.error as e:
            if self._missing(e):
                return False
            raise

    def names(self):
        return [n for n in self._prefixes() if self._exists(n + "/manifest.json")]

    def manifest(self, name):
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=name + "/manifest.json")["Body"].read())

    def fetch(self, name):
        path = os.path.join(ROOT, name)
        shutil.rmtree(path, ignore_errors=True)
        for key in self._keys(name):
            local = os.path.join(ROOT, *key.split("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            self.s3.download_file(self.bucket, key, local)
        return path

    def keep(self, name):
        path = os.path.join(ROOT, name)
        files = sorted(os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in os.walk(path) for f in fs)
        manifest = os.path.join(name, "manifest.json")
        for rel in [f for f in files if f != manifest] + [manifest]:
            self.s3.upload_file(os.path.join(ROOT, rel), self.bucket, rel.replace(os.sep, "/"))
        shutil.rmtree(path)

    def delete(self, name):
        keys = self._keys(name)
        for i in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})

    def clean(self):
        """Backups an interrupted Job left without a manifest, once a day has passed (one may
        still be uploading)."""
        cutoff = (now() - datetime.timedelta(days=1)).strftime("%Y%m%d-%H%M%S")
        for name in self._prefixes():
            if NAME.match(name).group(2) < cutoff and not self._exists(name + "/manifest.json"):
                self.delete(name)

    def pull(self, fname):
        try:
            self.s3.download_file(self.bucket, fname, os.path.join(ROOT, fname))
        except self.error as e:
            if not self._missing(e):
                raise

    def push(self, fname):
        self.s3.upload_file(os.path.join(ROOT, fname), self.bucket, fname)


STORE = None


def store():
    global STORE
    if STORE is None:
        STORE = Bucket(BUCKET) if BUCKET else Volume()
    return STORE


# --- backups -------------------------------------------------------------------------------


def backups():
    """The complete backups, oldest first, as (name, manifest)."""
    out = [(name, store().manifest(name)) for name in store().names()]
    return sorted(out, key=lambda b: NAME.match(b[0]).group(2))


def take(reason):
    started = now()
    name = "spaceone-%s-%s" % (RELEASE, started.strftime("%Y%m%d-%H%M%S"))
    partial = os.path.join(ROOT, "." + name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    manifest = {"format": 1, "name": name, "release": RELEASE, "reason": reason,
                "started": started.isoformat(timespec="seconds")}
    client = mongo()
    manifest["mongodb"] = dump_mongodb(client, os.path.join(partial, "mongodb"))
    if os.environ.get("CONSUL_HOST"):
        manifest["consul"] = dump_consul(os.path.join(partial, "consul"))
    manifest["finished"] = now().isoformat(timespec="seconds")
    manifest["bytes"] = sum(d["bytes"] for d in manifest["mongodb"].values()) + manifest.get("consul", {}).get("bytes", 0)
    with open(os.path.join(partial, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    os.rename(partial, os.path.join(ROOT, name))
    store().keep(name)
    docs = sum(c["documents"] for d in manifest["mongodb"].values() for c in d["collections"].values())
    log("%s: %d databases, %d documents%s, %d bytes (%s)" % (
        name, len(manifest["mongodb"]), docs,
        ", %d Consul keys" % manifest["consul"]["keys"] if "consul" in manifest else "", manifest["bytes"], reason))
    return name


def prune(keep):
    counted = [name for name, m in backups() if m.get("reason") in ("scheduled", "asked for")]
    for name in counted[:max(0, len(counted) - keep)]:
        store().delete(name)
        log("%s deleted: more than %d backups (backup.keep)" % (name, keep))
    store().clean()


def verify(name):
    """The backup's manifest, after checking it belongs to this release and every file is intact."""
    names = store().names()
    if not NAME.match(name) or name not in names:
        fail("no backup %s in %s (backups: %s)" % (name, store().where, ", ".join(sorted(names)) or "none"))
    path = store().fetch(name)
    with open(os.path.join(path, "manifest.json")) as f:
        manifest = json.load(f)
    if manifest["release"] != RELEASE:
        fail("%s is a backup of SpaceONE %s; this platform runs %s: a backup is restored into the release "
             "it was taken from" % (name, manifest["release"], RELEASE))
    files = []
    for db, d in manifest["mongodb"].items():
        for coll, c in d["collections"].items():
            files.append((os.path.join("mongodb", db, coll + ".bson"), c))
            files.append((os.path.join("mongodb", db, coll + ".metadata.json"), c["metadata"]))
    if "consul" in manifest:
        if not os.environ.get("CONSUL_HOST"):
            fail("%s holds Consul's keys, but this platform runs no Consul" % name)
        files.append((os.path.join("consul", "kv.json"), manifest["consul"]))
    for rel, entry in files:
        p = os.path.join(path, rel)
        if not os.path.exists(p) or os.path.getsize(p) != entry["bytes"] or sha256(p) != entry["sha256"]:
            fail("%s is damaged: %s does not match its manifest; nothing was restored" % (name, rel))
    return manifest


# --- the platform's writers ----------------------------------------------------------------


class Kube:
    SA = "/var/run/secrets/kubernetes.io/serviceaccount"

    def __init__(self):
        host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
        self.api = "https://%s:%s" % ("[%s]" % host if ":" in host else host, port)
        self.tls = ssl.create_default_context(cafile=self.SA + "/ca.crt")

    def call(self, method, path, body=None, missing_ok=False):
        with open(self.SA + "/token") as f:
            token = f.read().strip()
        req = urllib.request.Request(self.api + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": "application/merge-patch+json"})
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.tls) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if missing_ok and e.code == 404:
                return None
            fail("%s %s: %s %s" % (method, path, e.code, e.read().decode(errors="replace")[:300]))

    def deployments(self, ns):
        return self.call("GET", "/apis/apps/v1/namespaces/%s/deployments" % ns)["items"]

    def patch(self, ns, name, body):
        self.call("PATCH", "/apis/apps/v1/namespaces/%s/deployments/%s" % (ns, name), body)


def namespaces():
    return [ns for ns in os.environ["SPACEONE_WRITER_NAMESPACES"].split(",") if ns]


def stop_writers(kube):
    """Scale every Deployment of the namespaces to 0, its count kept in an annotation (a
    re-run finds the ones an interrupted run stopped), and wait until their pods are gone."""
    for ns in namespaces():
        for d in kube.deployments(ns):
            meta, replicas = d["metadata"], d["spec"].get("replicas", 1)
            if REPLICAS in (meta.get("annotations") or {}) or replicas == 0:
                continue
            kube.patch(ns, meta["name"], {"metadata": {"annotations": {REPLICAS: str(replicas)}},
                                          "spec": {"replicas": 0}})
            log("stopped %s/%s (%d replicas)" % (ns, meta["name"], replicas))
    wait(kube, lambda d: d.get("status", {}).get("replicas", 0) == 0, "to stop")


def start_writers(kube):
    for ns in namespaces():
        for d in kube.deployments(ns):
            meta = d["metadata"]
            before = (meta.get("annotations") or {}).get(REPLICAS)
            if before is None:
                continue
            kube.patch(ns, meta["name"], {"metadata": {"annotations": {REPLICAS: None}},
                                          "spec": {"replicas": int(before)}})
    wait(kube, lambda d: d.get("status", {}).get("readyReplicas", 0) >= d["spec"].get("replicas", 1), "to be ready")
    log("every Deployment started again")


def wait(kube, done, what, timeout=600):
    deadline = time.time() + timeout
    while True:
        left = ["%s/%s" % (ns, d["metadata"]["name"]) for ns in namespaces() for d in kube.deployments(ns) if not done(d)]
        if not left:
            return
        if time.time() > deadline:
            fail("waited %d s for %s %s" % (timeout, ", ".join(left), what))
        time.sleep(3)


# --- restore -------------------------------------------------------------------------------


def ledger():
    store().pull(LEDGER_NAME)
    if not os.path.exists(LEDGER):
        return []
    with open(LEDGER) as f:
        return [json.loads(line) for line in f if line.strip()]


def record(**entry):
    entry["time"] = now().isoformat(timespec="seconds")
    with open(LEDGER, "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    store().push(LEDGER_NAME)


def restore(name):
    client = mongo()
    done = client[MARKS_DB][RESTORES].find_one({"_id": name})
    if done is not None:
        log("%s was restored into this platform's MongoDB on %s: nothing to do (a new name restores again)"
            % (name, done["finished"].isoformat(timespec="seconds")))
        return
    manifest = verify(name)
    runs = [e for e in ledger() if e.get("restore") == name]
    attempt = runs[-1].get("attempt") if runs and runs[-1].get("step") != "finished" else None
    if attempt is None:
        attempt = now().strftime("%Y%m%d-%H%M%S")
        before = take("before restoring " + name)
        record(restore=name, attempt=attempt, step="backed up", backup=before)
    else:
        before = next(e["backup"] for e in runs if e.get("attempt") == attempt and e.get("step") == "backed up")
        log("resuming the restore of %s interrupted earlier; the data before it is in %s" % (name, before))
    kube = Kube()
    stop_writers(kube)
    record(restore=name, attempt=attempt, step="writers stopped")
    load_mongodb(client, os.path.join(ROOT, name), manifest)
    if "consul" in manifest:
        load_consul(os.path.join(ROOT, name))
    client[MARKS_DB][RESTORES].update_one({"_id": name}, {"$set": {"finished": now()}}, upsert=True)
    record(restore=name, attempt=attempt, step="data restored")
    start_writers(kube)
    record(restore=name, attempt=attempt, step="finished")
    log("restored %s (taken %s); what was there before is in %s" % (name, manifest["finished"], before))


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("backup", "restore"):
        fail("usage: spaceone_backup.py backup [REASON] | restore NAME")
    if sys.argv[1] == "backup":
        name = take(sys.argv[2] if len(sys.argv) > 2 else "asked for")
        prune(int(os.environ.get("BACKUP_KEEP", "7")))
        print(name, flush=True)
    else:
        if len(sys.argv) != 3:
            fail("usage: spaceone_backup.py restore NAME")
        restore(sys.argv[2])


if __name__ == "__main__":
    main()
