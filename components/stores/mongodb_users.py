#!/usr/bin/env python3
"""spaceone-pulumi: every SpaceONE service's MongoDB user, as the stack says it should be.

Run by the Job mongodb-users on every `up` that changes the users (a service enabled, a grant,
the script): each user in SPACEONE_DB_USERS is created, or updated, with the root login, to its
password (from the environment variable the entry names) and readWrite on exactly its
databases. The mongo image creates users only on an empty volume at its first start; this
keeps them right on kept volumes too. Users of services no longer enabled are left as they
are (their data stays). Nothing secret is printed.
"""
import json
import os
import sys
import time

import pymongo
from pymongo.errors import OperationFailure, PyMongoError

NOT_IMPLEMENTED = 238  # a server without roles (FerretDB) refuses any non-empty "roles"


def connect():
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
                sys.exit("mongodb users: cannot log in to %s as root: %s" % (os.environ["MONGO_HOST"], type(e).__name__))
            time.sleep(2)


def main():
    users = json.loads(os.environ["SPACEONE_DB_USERS"])
    admin = connect().admin
    without_roles = []
    for u in users:
        pwd = os.environ.get(u["env"])
        if not pwd:
            sys.exit("mongodb users: %s is not set: no password for %s" % (u["env"], u["user"]))
        roles = [{"role": "readWrite", "db": db} for db in u["dbs"]]
        verb = "updateUser" if admin.command("usersInfo", u["user"])["users"] else "createUser"
        try:
            admin.command(verb, u["user"], pwd=pwd, roles=roles)
        except OperationFailure as e:
            if e.code != NOT_IMPLEMENTED:
                raise
            admin.command(verb, u["user"], pwd=pwd, roles=[])
            without_roles.append(u["user"])
        print("mongodb users: %s %s (readWrite on %s)" % (u["user"], "updated" if verb == "updateUser" else "created",
                                                          ", ".join(u["dbs"])), flush=True)
    if without_roles:
        print("mongodb users: this server implements no roles: %d users have a login only" % len(without_roles), flush=True)
    print("mongodb users: %d users as the stack says" % len(users), flush=True)


if __name__ == "__main__":
    main()
