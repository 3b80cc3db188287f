#!/usr/bin/env python3
"""spaceone-pulumi initializer: runs `spacectl apply` on a mode's task file and fails loudly.

Usage: initialize.py MANIFEST. The manifest (rendered by the program, package initializer)
names each mode's task file and task count, the vars file (a Secret), spacectl's config, where
the last task leaves a new key, and where the key goes; this script takes nothing else.

spacectl exits 0 when it cannot load its task files (it prints "ERROR: ..." instead), and on a
failed task it prints the task's spec, rendered passwords included. So this wrapper
  1. decides the mode: "again" when the key store (Consul, or the key's Kubernetes Secrets)
     already holds an API key that identity accepts (the database is initialised: the owner's
     password is set again, what exists is found, the key is kept), else "first";
  2. runs spacectl on that mode's task file with its output captured, and prints only its
     progress lines and error messages, with the admin password, the marketplace token and
     every token redacted;
  3. exits non-zero unless spacectl finished with exactly the expected number of tasks done
     and no error, its last lines saying why (the pod's termination message);
  4. in mode "first", hands the new key over (the last task left it in a file) and reads it
     back from every place it went;
  5. in mode "rotate" (asked for: the manifest's rotation differs from the value recorded beside
     the key at the last rotation), does what "again" does, creates a new key, hands it over
     with that value, and disables the old key;
  6. in mode "rekey" (the root domain exists, but the key store holds no working key: the
     stores' volumes were kept across a destroy, or the store was emptied), logs in as the
     domain's owner, finds the rest, creates and hands over a new key, and disables the API
     user's other keys (the lost one still works in identity).
"""
import base64
import json
import ssl
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import yaml

# The modes this script picks among; the manifest gives each one's task file and task count.
FIRST, AGAIN, ROTATE, REKEY = "first", "again", "rotate", "rekey"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)  # rendered by the program (package initializer): every path and count
    modes = manifest["modes"]
    missing = {FIRST, AGAIN, ROTATE, REKEY} - set(modes)
    if missing:
        fail("the manifest has no task file for mode(s) %s" % ", ".join(sorted(missing)))
    rotation = manifest.get("rotation", "")
    for why, what in (("restored", "after the restore of backup %s"), ("repair", "to repair a lost API key (%s)")):
        if manifest.get(why):
            print("spaceone initializer: running again " + what % manifest[why], flush=True)

    def configure():
        """spacectl's config (its endpoints; no key) where spacectl reads it."""
        for src, dst in manifest["spacectl_config"].items():
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(src, dst)

    configure()
    with open(manifest["vars"]) as f:
        var = yaml.safe_load(f).get("var", {})
    secrets = [s for s in (var.get("domain_owner", {}).get("password"), var.get("marketplace_token")) if s]

    def redact(text):
        for s in secrets:
            text = text.replace(s, "***")
        return JWT.sub("***", text)

    handoff = manifest["handoff"]
    store = Consul(handoff) if handoff.get("consul") else Secrets(handoff)
    mode = FIRST
    key = store.get()
    # identity must answer first: spacectl's "find or create" takes a failed find for "absent"
    # and would then create a duplicate.
    domains = lambda: reachable(lambda: spacectl("list", "identity.Domain", "-p", "name=" + var["domain"]["root"], "-o", "json"))
    if key:
        spacectl("config", "set", "api_key", key)
        out = domains()
        if "ERROR" not in out and var["domain"]["root"] in out:
            mode = AGAIN
            print("spaceone initializer: %s holds a working API key: the platform is initialised; "
                  "setting the owner's password and checking what exists" % store, flush=True)
            if rotation and rotation != store.rotation():
                mode = ROTATE
                print("spaceone initializer: a new API key is asked for (initializer.rotateApiKey): "
                      "it replaces the old one, which is then disabled", flush=True)
            else:
                print("spaceone initializer: the key is kept", flush=True)
        else:
            print("spaceone initializer: the API key in %s is not accepted (%s); initialising as a first install"
                  % (store, redact(out.strip().splitlines()[-1] if out.strip() else "no answer")), flush=True)
            configure()  # without that key
    if mode == FIRST:
        out = domains()  # Domain.list needs no token
        if "ERROR" not in out and re.search(r'"name":\s*"%s"' % re.escape(var["domain"]["root"]), out):
            mode = REKEY
            print("spaceone initializer: the root domain exists, but %s holds no working API key "
                  "(kept volumes, or an emptied key store): logging in as its owner to make a new key" % store, flush=True)
        else:
            print("spaceone initializer: first install: root domain, its owner, the API user and its key", flush=True)

    run = modes[mode]
    proc = subprocess.run(["spacectl", "apply", run["tasks"], "--var-file", manifest["vars"]],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout
    shown, errors, in_error = [], [], False
    for line in out.splitlines():
        bare = line.rstrip("* ").rstrip()
        if line.startswith(">> Spec:") or line.startswith(">> Task:"):
            in_error = False  # spacectl dumps the rendered spec here: never shown
            continue
        if line.startswith("ERROR:") or line.startswith("(ERROR)"):
            in_error = True
        if in_error:
            errors.append(redact(line))
            shown.append(redact(line))
        elif re.match(r"^\s*(TASK|SKIP|LOOP|SUB-TASKS) \[|^FINISHED \[", line):
            shown.append(redact(bare))
    print("\n".join(shown), flush=True)
    done = re.search(r"FINISHED \[ ok=(\d+), skipped=(\d+) \]", out)
    want = run["count"]
    if proc.returncode != 0 or errors or not done or int(done.group(1)) != want:
        got = "spacectl did not finish" if not done else "%s of %d tasks done" % (done.group(1), want)
        why = "; ".join(e.strip() for e in errors if e.strip()) or "no error message"
        fail("(%s, exit code %d): %s" % (got, proc.returncode, why))
    if mode in (FIRST, ROTATE, REKEY):
        old = key
        with open(manifest["key_file"]) as f:
            key = f.read().strip()
        os.remove(manifest["key_file"])
        store.put(key, rotation)
        if store.get() != key:
            fail("the API key did not reach %s" % store)
        print("spaceone initializer: the API key is in %s" % store, flush=True)
        if mode == ROTATE:
            old_id, domain_id = key_claims(old, "old")
            disable(old_id, domain_id)
        elif mode == REKEY:
            disable_lost(key, var["user"]["id"])
    print("spaceone initializer: done (%s)" % mode, flush=True)


def key_claims(key, which):
    """The api_key_id and domain id a key names (its JWT payload)."""
    payload = key.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if not claims.get("api_key_id") or not claims.get("did"):
        fail("the %s API key names no api_key_id or domain" % which)
    return claims["api_key_id"], claims["did"]


def disable(key_id, domain_id):
    """Disables a replaced key in identity (spacectl is logged in with the new one)."""
    out = spacectl("exec", "disable", "identity.APIKey", "-p", "api_key_id=" + key_id,
                   "-p", "domain_id=" + domain_id, "-o", "json")
    if "ERROR" in out or "DISABLED" not in out:
        fail("disabling the replaced API key %s: %s" % (key_id, redacted_tail(out)))
    print("spaceone initializer: the replaced API key (%s) is disabled" % key_id, flush=True)


def disable_lost(key, user_id):
    """In mode rekey the key the store lost still works in identity: every enabled key of the
    API user but the new one is disabled (only the initializer makes keys for that user)."""
    new_id, domain_id = key_claims(key, "new")
    out = spacectl("list", "identity.APIKey", "-p", "user_id=" + user_id, "-p", "domain_id=" + domain_id,
                   "-p", "state=ENABLED", "-o", "json")
    if "ERROR" in out:
        fail("listing the API user's keys: %s" % redacted_tail(out))
    ids = set(re.findall(r'"api_key_id":\s*"([^"]+)"', out))
    if new_id not in ids:
        fail("the new API key is not among the API user's enabled keys")
    for key_id in sorted(ids - {new_id}):
        disable(key_id, domain_id)


def fail(why):
    """Ends the run: the last line of the log, and so the pod's termination message, says why
    ("FAILED: why", or "FAILED (counts): why" when why starts with its parenthesis)."""
    print("spaceone initializer: FAILED" + (" " if why.startswith("(") else ": ") + why, flush=True)
    sys.exit(1)


def redacted_tail(out):
    """The end of a spacectl answer for an error message, tokens redacted."""
    return JWT.sub("***", out.strip())[-300:]


def reachable(call, tries=15):
    """Runs call until its output is not a connection error (identity not reachable yet)."""
    for _ in range(tries):
        out = call()
        if "ERROR_GRPC_CONNECTION" not in out and "Channel is not ready" not in out:
            return out
        time.sleep(2)
    fail("identity is not reachable (%s)" % out.strip().splitlines()[-1])


def spacectl(*args):
    p = subprocess.run(["spacectl", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.stdout


class Consul:
    """The key in Consul's KV store, where 1.10's token consumers read it (TOKEN_INFO)."""

    def __init__(self, handoff):
        self.path = handoff["key_path"]
        self.base = "http://%s/v1/kv/%s" % (handoff["consul"], self.path)

    def __str__(self):
        return "Consul (%s)" % self.path

    def read(self, url):
        """The value at a KV URL ("" when absent)."""
        try:
            with urllib.request.urlopen(url + "?raw", timeout=10) as r:
                return r.read().decode().strip()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return ""
            raise

    def get(self):
        return self.read(self.base)

    def rotation(self):
        """The rotation value recorded with the key (beside it, at <key path>_ROTATION)."""
        return self.read(self.base + "_ROTATION")

    def put(self, key, rotation):
        for url, value in ((self.base, key), (self.base + "_ROTATION", rotation)):
            req = urllib.request.Request(url, data=value.encode(), method="PUT")
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()


class Secrets:
    """The key in a Kubernetes Secret per namespace with a token consumer, as a config file the
    consumers import (TOKEN). This pod's ServiceAccount may get and patch these, nothing else."""

    SA = "/var/run/secrets/kubernetes.io/serviceaccount"

    def __init__(self, handoff):
        self.names = [s.split("/", 1) for s in handoff["secrets"]]
        host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
        self.api = "https://%s:%s" % ("[%s]" % host if ":" in host else host, port)
        self.tls = ssl.create_default_context(cafile=self.SA + "/ca.crt")

    def __str__(self):
        return "the Secrets " + ", ".join("/".join(n) for n in self.names)

    def call(self, method, ns, name, body=None):
        with open(self.SA + "/token") as f:
            token = f.read().strip()
        req = urllib.request.Request("%s/api/v1/namespaces/%s/secrets/%s" % (self.api, ns, name), method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": "application/merge-patch+json"})
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.tls) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            # The API's own message (e.g. "forbidden: ... cannot patch"), never the request.
            fail("%s secret %s/%s: %s %s" % (method, ns, name, e.code, e.read().decode(errors="replace")[:300]))

    def data(self, entry):
        ns, name = self.names[0]
        value = (self.call("GET", ns, name).get("data") or {}).get(entry)
        return base64.b64decode(value).decode() if value else ""

    def get(self):
        """The key of the first Secret ("" when none: the program creates them empty)."""
        return str((yaml.safe_load(self.data("token.yaml")) or {}).get("TOKEN", "")).strip()

    def rotation(self):
        """The rotation value recorded with the key (the Secret's entry "rotation")."""
        return self.data("rotation").strip()

    def put(self, key, rotation):
        doc = base64.b64encode(yaml.safe_dump({"TOKEN": key}).encode()).decode()
        rot = base64.b64encode(rotation.encode()).decode()
        for ns, name in self.names:
            got = (self.call("PATCH", ns, name, {"data": {"token.yaml": doc, "rotation": rot}}).get("data") or {}).get("token.yaml")
            if got != doc:
                fail("secret %s/%s does not hold the key after the write" % (ns, name))


if __name__ == "__main__":
    main()
