#!/usr/bin/env python3
"""spaceone-pulumi upgrade: SpaceONE 1.10.4's data made 1.12.12's, in the up that changes the release.

  spaceone_upgrade.py FROM TO

Runs as the Job `upgrade` of that up, before any 1.12.12 service starts and while 1.10.4's
Consul still runs (a removed store goes at the end of the up). In order:
  1. every Deployment of the platform's namespaces stopped (scaled to 0): nothing writes while
     the data is copied and changed; the up then starts 1.12.12's, with the replicas it declares;
  2. a backup of everything (spaceone_backup.py, reason "before upgrading FROM->TO"): the way
     back is a restore of it into a FROM stack;
  3. the steps below, each recorded in the ledger (database spaceone_pulumi, collection
     migrations) when done and never run twice, so an up interrupted here and run again
     resumes where it stopped. Each step is also safe to run again after it was cut short.

The steps do to the data what upstream's cloudforet-io/db-migration does in its steps
v1.11.0, v1.12.0, v1.12.1 and v1.12.2 (the facts are taken from there; the code is ours),
with these differences, each because upstream loses data or cannot be re-run:
  - cost-analysis's database is named "cost-analysis" (upstream's map says "cost_analysis",
    so it silently skips every cost-analysis operation): here they run;
  - the alert numbers are given per domain after the highest one there, and the counter is
    written, not dropped and rebuilt (upstream's second run restarts numbering at 1);
  - cloud_service's tags are converted until none is left in the 1.10 shape (upstream pages
    through a set its own updates shrink, and converts only part of it per run);
  - a collector's schedule keeps its collector's DISABLED state (upstream enables every one);
  - the secret payloads, which 1.10.4's secret service keeps in Consul (key = secret id,
    value {"Name", "SecretString": <the data as JSON>}), are written to 1.12's MongoDB
    database secret_data (collection secret_data: {secret_id, data}), which upstream does not
    do at all: after its migration no stored credential can be read.
Runs in the image of the catalogue's dataJobs service (python3, pymongo), on Python 3.8 and later. Prints no
secret and no secret payload.
"""
import hashlib
import json
import os
import sys
import urllib.request

from pymongo import UpdateOne

import spaceone_backup as backup

LEDGER_DB, LEDGER = "spaceone_pulumi", "migrations"


def log(msg):
    print("spaceone upgrade: " + msg, flush=True)


def fail(msg):
    sys.exit("spaceone upgrade: " + msg)


def has(client, db, coll):
    return db in client.list_database_names() and coll in client[db].list_collection_names()


def drop(client, db, coll):
    if has(client, db, coll):
        n = client[db][coll].count_documents({})
        client[db][coll].drop()
        log("dropped %s.%s (%d documents; they are in the backup)" % (db, coll, n))


# --- v1.11.0 -------------------------------------------------------------------------------


def repository_indexes(client):
    for coll in ("plugin", "policy", "schema"):
        if has(client, "repository", coll):
            client["repository"][coll].drop_indexes()


def alert_numbers(client):
    """Number each domain's alerts that have no number yet after the highest it has, oldest
    first, and keep the counter (alert_number {domain_id, next}) at the highest."""
    if not has(client, "monitoring", "alert"):
        return
    alerts, counters = client["monitoring"]["alert"], client["monitoring"]["alert_number"]
    for domain in alerts.distinct("domain_id"):
        top = alerts.find_one({"domain_id": domain, "alert_number_str": {"$exists": True}}, sort=[("alert_number", -1)])
        n = top["alert_number"] if top else 0
        ops = []
        for a in alerts.find({"domain_id": domain, "alert_number_str": {"$exists": False}}, {"_id": 1}).sort("created_at", 1):
            n += 1
            ops.append(UpdateOne({"_id": a["_id"]}, {"$set": {"alert_number": n, "alert_number_str": str(n)}}))
        if ops:
            alerts.bulk_write(ops)
        counters.update_one({"domain_id": domain}, {"$set": {"next": n}}, upsert=True)


def escalation_scope(client):
    if has(client, "monitoring", "escalation_policy"):
        client["monitoring"]["escalation_policy"].update_many({"scope": "GLOBAL"}, {"$set": {"scope": "DOMAIN"}})


def md5(s):
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def cloud_service_shape(client):
    """tags [{key, value, provider}] -> {provider: {md5(key): {key, value}}} with tag_keys;
    metadata keyed by plugin -> keyed by the cloud service's provider; collection_info {} -> []."""
    if not has(client, "inventory", "cloud_service"):
        return
    cs = client["inventory"]["cloud_service"]
    while True:
        batch = list(cs.find({"tags": {"$type": "array"}}, {"provider": 1, "metadata": 1, "tags": 1, "collection_info": 1}).limit(500))
        if not batch:
            return
        ops = []
        for doc in batch:
            provider = doc.get("provider", "custom")
            tags, keys = {}, {}
            for tag in doc.get("tags") or []:
                key, p = str(tag["key"]), str(tag.get("provider", "custom"))
                tags.setdefault(p, {})[md5(key)] = {"key": key, "value": str(tag.get("value", ""))}
                if key not in keys.setdefault(p, []):
                    keys[p].append(key)
            update = {"tags": tags, "tag_keys": keys}
            metadata = doc.get("metadata") or {}
            if metadata and provider not in metadata:
                update["metadata"] = {provider: metadata[list(metadata)[-1]]}
            if isinstance(doc.get("collection_info"), dict):
                update["collection_info"] = []
            ops.append(UpdateOne({"_id": doc["_id"]}, {"$set": update}))
        cs.bulk_write(ops)


def data_source_rule_type(client):
    if has(client, "cost-analysis", "data_source_rule"):
        client["cost-analysis"]["data_source_rule"].update_many({"rule_type": {"$exists": False}}, {"$set": {"rule_type": "MANAGED"}})


def v1_11_0_drops(client):
    for coll in ("cloud_service_tag", "server", "zone"):
        drop(client, "inventory", coll)


# --- v1.12.0 -------------------------------------------------------------------------------


def collector_schedule(client):
    """1.10 keeps schedules apart (inventory.schedule, by collector); 1.12 embeds one in the
    collector: {state, hours}. The first schedule with hours of each collector becomes its
    schedule, ENABLED unless the collector was DISABLED. Then the fields 1.12 dropped go."""
    if not has(client, "inventory", "collector"):
        return
    coll = client["inventory"]["collector"]
    if has(client, "inventory", "schedule"):
        done = set()
        for s in client["inventory"]["schedule"].find({}).sort("created_at", 1):
            hours = (s.get("schedule") or {}).get("hours") or []
            if not hours or s["collector_id"] in done:
                if not hours:
                    log("schedule %s of collector %s has no hours (cron, interval or minutes): 1.12 schedules by hour only; "
                        "it is kept in inventory.schedule, not applied" % (s.get("schedule_id"), s.get("collector_id")))
                continue
            done.add(s["collector_id"])
            c = coll.find_one({"collector_id": s["collector_id"]}, {"state": 1, "schedule": 1})
            if c is None or isinstance(c.get("schedule"), dict) and "hours" in c["schedule"]:
                continue  # no such collector, or already in the 1.12 shape
            state = "DISABLED" if c.get("state") == "DISABLED" else "ENABLED"
            coll.update_one({"_id": c["_id"]}, {"$set": {"schedule": {"state": state, "hours": hours}}})
        client["inventory"]["schedule"].drop_indexes()
    coll.update_many({}, {"$unset": {"plugin_info.secret_id": "", "plugin_info.secret_group_id": "",
                                     "plugin_info.service_account_id": "", "plugin_info.provider": "",
                                     "state": "", "is_public": ""}})


# --- v1.12.1, v1.12.2 ----------------------------------------------------------------------


def v1_12_1_drops(client):
    for coll in ("job", "job_task"):
        drop(client, "inventory", coll)


def v1_12_2_drops(client):
    drop(client, "identity", "provider")  # 1.12 makes its providers per domain, anew
    for coll in ("domain_dashboard", "domain_dashboard_version", "project_dashboard", "project_dashboard_version"):
        drop(client, "dashboard", coll)
    for coll in ("public_dashboard", "user_dashboard", "custom_widget", "cost", "monthly_cost", "budget_usage",
                 "cost_query_set", "cost_query_history", "budget", "job", "job_task"):
        drop(client, "cost-analysis", coll)
    for coll in ("cloud_service_stats", "monthly_cloud_service_stats", "cloud_service_query_set", "cloud_service_stats_query_history"):
        drop(client, "inventory", coll)


def prowler_option(client):
    if not has(client, "inventory", "collector"):
        return
    coll = client["inventory"]["collector"]
    for c in coll.find({"plugin_info.plugin_id": "plugin-prowler-inven-collector",
                        "plugin_info.options.compliance_type": {"$exists": True}}, {"_id": 1}):
        coll.update_one({"_id": c["_id"]}, {"$rename": {"plugin_info.options.compliance_type": "plugin_info.options.compliance_framework"}})


# --- secrets -------------------------------------------------------------------------------


def secrets_to_mongodb(client):
    """Every secret's and trusted secret's payload from Consul into secret_data.secret_data."""
    target = client["secret_data"]["secret_data"]
    moved = missing = 0
    for coll, field in (("secret", "secret_id"), ("trusted_secret", "trusted_secret_id")):
        if not has(client, "secret", coll):
            continue
        for s in client["secret"][coll].find({}, {field: 1}):
            sid = s[field]
            raw = backup.consul("GET", urllib.request.quote(sid) + "?raw=true")
            if raw is None:
                missing += 1
                log("%s %s has no payload in Consul: it reads back empty in 1.12" % (coll, sid))
                continue
            data = json.loads(json.loads(raw.decode("utf-8"))["SecretString"])
            target.update_one({"secret_id": sid}, {"$set": {"secret_id": sid, "data": data}}, upsert=True)
            moved += 1
    log("secret payloads moved from Consul to secret_data: %d (%d without one)" % (moved, missing))


def old_store_claims(client):
    """The volume claims of the stores the new release does not run: deleted now, gone once
    their pods go at the end of the up (Kubernetes keeps a claim in use)."""
    kube, ns = backup.Kube(), backup.namespaces()[0]
    for claim in [c for c in os.environ.get("SPACEONE_DELETE_CLAIMS", "").split(",") if c]:
        if kube.call("DELETE", "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (ns, claim), missing_ok=True) is not None:
            log("claim %s/%s deleted (its data is in the backup)" % (ns, claim))


STEPS = [
    ("v1.11.0 repository indexes", repository_indexes),
    ("v1.11.0 alert numbers", alert_numbers),
    ("v1.11.0 escalation policy scope", escalation_scope),
    ("v1.11.0 cloud service shape", cloud_service_shape),
    ("v1.11.0 data source rule type", data_source_rule_type),
    ("v1.11.0 drops", v1_11_0_drops),
    ("v1.12.0 collector schedule", collector_schedule),
    ("v1.12.1 drops", v1_12_1_drops),
    ("v1.12.2 drops", v1_12_2_drops),
    ("v1.12.2 prowler option", prowler_option),
    ("secrets from Consul", secrets_to_mongodb),
    ("old stores' claims", old_store_claims),
]


def main():
    if len(sys.argv) != 3:
        fail("usage: spaceone_upgrade.py FROM TO")
    frm, to = sys.argv[1], sys.argv[2]
    client = backup.mongo()
    ledger = client[LEDGER_DB][LEDGER]
    done = {e["_id"] for e in ledger.find({"finished": {"$exists": True}, "upgrade": frm + "->" + to})}
    kube = backup.Kube()
    for ns in backup.namespaces():
        for d in kube.deployments(ns):
            if d["spec"].get("replicas", 1) != 0:
                kube.patch(ns, d["metadata"]["name"], {"spec": {"replicas": 0}})
                log("stopped %s/%s" % (ns, d["metadata"]["name"]))
    backup.wait(kube, lambda d: d.get("status", {}).get("replicas", 0) == 0, "to stop")
    first = ledger.find_one({"_id": "backup", "upgrade": frm + "->" + to})
    if first is None:
        backup.RELEASE = frm  # the backup is of the release the data is still in
        name = backup.take("before upgrading %s->%s" % (frm, to))
        ledger.insert_one({"_id": "backup", "upgrade": frm + "->" + to, "backup": name, "finished": backup.now()})
        log("backup %s taken: to go back, restore it into a %s stack" % (name, frm))
    else:
        log("resuming the upgrade; the data before it is in backup %s" % first["backup"])
    for step, run in STEPS:
        if step in done:
            log("%s: done before" % step)
            continue
        ledger.update_one({"_id": step}, {"$set": {"upgrade": frm + "->" + to, "started": backup.now()}}, upsert=True)
        run(client)
        ledger.update_one({"_id": step}, {"$set": {"finished": backup.now()}})
        log("%s: done" % step)
    log("the data is %s's; its services start next" % to)


if __name__ == "__main__":
    main()
