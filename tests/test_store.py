# Routines on flash: atomic install, fallback to the built-ins, settings, error log.
import hashlib
import json

from massager import routines
from massager.store import ERROR_LOG_MAX, Store


def make_store(tmp_path):
    store = Store(str(tmp_path))
    store.ensure_dir()
    return store


def routine_text(name="mine", **changes):
    doc = json.loads(routines.text("daily"))
    doc.update(name=name, **changes)
    return json.dumps(doc)


def upload(store, name, text):
    data = text.encode()
    with open(store.temp_path(name), "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def test_install_moves_a_checked_upload_into_place(tmp_path):
    store = make_store(tmp_path)
    digest = upload(store, "mine", routine_text())
    assert store.install("mine", digest) == "ok"
    assert store.names() == ["mine"]
    progs, problems = store.programs()
    assert [p.name for p in progs] == ["daily", "weekly", "mine"] and problems == []


def test_damaged_or_invalid_upload_leaves_the_old_routine(tmp_path):
    store = make_store(tmp_path)
    assert store.install("mine", upload(store, "mine", routine_text(rounds=2))) == "ok"
    old = (tmp_path / "routines" / "mine.json").read_bytes()
    digest = upload(store, "mine", routine_text(rounds=3))
    with open(store.temp_path("mine"), "ab") as f:
        f.write(b"  ")  # the bytes on the device are not the ones the host sent
    assert "hash mismatch" in store.install("mine", digest)
    assert "rounds: must be 1..12" in store.install(
        "mine", upload(store, "mine", routine_text(rounds=99)))
    assert "name field is 'other'" in store.install(
        "mine", upload(store, "mine", routine_text(name="other")))
    assert (tmp_path / "routines" / "mine.json").read_bytes() == old
    assert store.names() == ["mine"]  # temp files are never listed or loaded


def test_a_corrupt_routine_falls_back_to_the_builtins_with_a_problem(tmp_path):
    store = make_store(tmp_path)
    (tmp_path / "routines" / "broken.json").write_bytes(b'{"format": 1, "name": "bro')
    progs, problems = store.programs()
    assert [p.name for p in progs] == ["daily", "weekly"]
    assert problems == ["routines/broken.json: not valid JSON at line 1: string not closed"]


def test_missing_routines_dir_is_just_the_builtins(tmp_path):
    progs, problems = Store(str(tmp_path)).programs()
    assert [p.name for p in progs] == ["daily", "weekly"] and problems == []


def test_a_user_routine_may_replace_a_builtin(tmp_path):
    store = make_store(tmp_path)
    assert store.install("daily", upload(store, "daily", routine_text("daily", rounds=1))) \
        == "ok"
    progs, _ = store.programs()
    assert [p.name for p in progs] == ["weekly", "daily"] and progs[1].rounds == 1
    assert [p.name for p in store.programs(user=False)[0]] == ["daily", "weekly"]


def test_level_survives_and_a_corrupt_settings_file_gives_the_default(tmp_path):
    store = make_store(tmp_path)
    assert store.level(1) == 1
    store.save_level(2)
    assert Store(str(tmp_path)).level(1) == 2
    (tmp_path / "settings.json").write_text("{nope")
    assert store.level(1) == 1


def test_error_log_stays_small(tmp_path):
    store = make_store(tmp_path)
    for i in range(500):
        store.log_error("problem number %d\nwith a second line" % i)
    text = (tmp_path / "error.log").read_text()
    assert len(text) <= ERROR_LOG_MAX + 250
    assert text.endswith("problem number 499 with a second line\n")


def test_install_and_settings_work_where_rename_will_not_replace(tmp_path, monkeypatch):
    # FAT (some ESP32 builds) refuses to rename over an existing file: the one rule in
    # store.replace_file removes the old file first, for routines and for settings alike.
    import os

    real_rename = os.rename

    def fat_rename(src, dst):
        if os.path.exists(dst):
            raise OSError(17, "EEXIST")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", fat_rename)
    store = make_store(tmp_path)
    for rounds in (2, 3):
        assert store.install("mine", upload(store, "mine", routine_text(rounds=rounds))) == "ok"
        assert store.load("mine")[0].rounds == rounds
    for level in (0, 2):
        store.save_level(level)
        assert store.level(1) == level
