"""`puente backup FILE` and `puente restore FILE`.

Embedded store: the backup is SQLite's online backup of the database, taken from another
connection while Puente runs (WAL lets it read a consistent snapshot without stopping
anything); the file is itself a database. MongoDB: an archive of Puente's collections,
gzip'd JSON lines in MongoDB Extended JSON (types kept), read collection by collection.

Restore puts a backup into a stopped Puente (DATA_DIR's lock proves it is stopped): the
database file is replaced atomically, or every collection is emptied and refilled.
What else to keep safe is the secret key (SECRET_KEY or DATA_DIR/secret.key): without it
the stored OpenAI keys cannot be read.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
from pathlib import Path

from bson import json_util

from core.data_dir import FILE_MODE, make_private_dir, sqlite_files
from core.instance_lock import InstanceLock
from core.settings import Settings
from core.store import SQLITE_FILE, store_for

SQLITE_MAGIC = b"SQLite format 3\0"
ARCHIVE_HEADER = {"puente_archive": 1}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


async def backup(settings: Settings, target: Path) -> str:
    """Write a snapshot of the store to `target`; a line saying what was written."""
    if target.exists():
        raise BackupError(f"{target} exists already: name a new file")
    if settings.mongodb_uri is None and settings.embedded_store == "sqlite":
        return _backup_sqlite(settings.data_dir / SQLITE_FILE, target)
    store = store_for(settings)
    await store.start()
    try:
        return await _backup_mongo(store.db, target)
    finally:
        await store.stop()


def _backup_sqlite(source: Path, target: Path) -> str:
    if not source.exists():
        raise BackupError(f"there is no database at {source} yet: nothing to back up")
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        tables = dst.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    dst.close()
    src.close()
    return f"backup of {source} written to {target} ({tables} tables, {target.stat().st_size} bytes)"


async def _backup_mongo(db, target: Path) -> str:
    documents = 0
    names = sorted(await db.list_collection_names())
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as out:
        out.write(json.dumps({**ARCHIVE_HEADER, "collections": names}) + "\n")
        for name in names:
            async for doc in db[name].find({}):
                out.write(json_util.dumps({"c": name, "d": doc}, json_options=json_util.CANONICAL_JSON_OPTIONS))
                out.write("\n")
                documents += 1
    return f"archive of {len(names)} collections ({documents} documents) written to {target}"


async def restore(settings: Settings, source: Path) -> str:
    """Put the backup at `source` into this (stopped) Puente's store."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    make_private_dir(settings.data_dir)
    lock = InstanceLock(settings.data_dir)
    lock.acquire()  # AlreadyRunning if Puente runs on this DATA_DIR
    try:
        with source.open("rb") as handle:
            magic = handle.read(len(SQLITE_MAGIC))
        if magic == SQLITE_MAGIC:
            if settings.mongodb_uri is not None or settings.embedded_store != "sqlite":
                raise BackupError("this is a backup of the embedded store; this Puente uses MongoDB")
            return _restore_sqlite(source, settings.data_dir / SQLITE_FILE)
        if magic[:2] == b"\x1f\x8b":
            if settings.mongodb_uri is None:
                raise BackupError("this is a MongoDB archive; set MONGODB_URI to restore it")
            return await _restore_mongo(settings, source)
        raise BackupError(f"{source} is neither a Puente database backup nor a Puente archive")
    finally:
        lock.release()


def _restore_sqlite(source: Path, target: Path) -> str:
    staging = target.with_name(target.name + ".restoring")
    for path in sqlite_files(staging):
        path.unlink(missing_ok=True)
    try:
        with sqlite3.connect(source) as src:
            if src.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is damaged (SQLite's quick_check failed)")
            if not src.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone():
                raise BackupError(f"{source} is a SQLite file but not a Puente backup")
            fd = os.open(staging, os.O_CREAT | os.O_WRONLY, FILE_MODE)
            os.close(fd)
            with sqlite3.connect(staging) as dst:
                src.backup(dst)
            dst.close()
        src.close()
    except sqlite3.DatabaseError as exc:
        staging.unlink(missing_ok=True)
        raise BackupError(f"{source} cannot be read as a database: {exc}") from None
    for path in sqlite_files(target)[1:]:
        path.unlink(missing_ok=True)  # the replaced database's journals must not be replayed
    os.replace(staging, target)
    return f"{source} restored into {target}"


async def _restore_mongo(settings: Settings, source: Path) -> str:
    store = store_for(settings)
    await store.start()
    try:
        db = store.db
        with gzip.open(source, "rt", encoding="utf-8") as archive:
            header = json.loads(archive.readline())
            if header.get("puente_archive") != 1:
                raise BackupError(f"{source} is not a Puente archive")
            for name in header["collections"]:
                await db[name].delete_many({})
            batch: dict[str, list] = {}
            count = 0
            for line in archive:
                record = json_util.loads(line)
                batch.setdefault(record["c"], []).append(record["d"])
                count += 1
                if len(batch[record["c"]]) >= 500:
                    await db[record["c"]].insert_many(batch.pop(record["c"]))
            for name, docs in batch.items():
                await db[name].insert_many(docs)
    finally:
        await store.stop()
    return f"{count} documents of {len(header['collections'])} collections restored from {source}"
