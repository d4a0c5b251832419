"""``download`` (no network here: the fetch function is replaced by one serving local bytes)
and the ``hypsst data`` subcommands."""
import argparse
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

import hypsst.datasets.sources as dl
from hypsst.datasets import download, load
from hypsst.datasets.cli import add_data_parser
from hypsst.datasets.files import git_blob_sha1
from hypsst.errors import DatasetError

DATA = Path(os.environ.get("HYPSST_DATA", "/nonexistent"))
real = pytest.mark.skipif(not (DATA / "disease_lp").is_dir(),
                          reason="real data files absent: set HYPSST_DATA to ../shared/data/hgcn")


def _serve(files: dict, log: list):
    def fetch(url):
        log.append(url)
        for key, data in files.items():
            if url.endswith("/" + key):
                return data
        raise OSError("404 not served")
    return fetch


@real
def test_download_verifies_and_writes_atomically(tmp_path, monkeypatch):
    files = {f"disease_lp/{p.name}": p.read_bytes() for p in (DATA / "disease_lp").iterdir()}
    log = []
    monkeypatch.setattr(dl, "fetch", _serve(files, log))
    folder = download("disease_lp", root=tmp_path)
    assert folder == tmp_path / "disease_lp"
    for key, data in files.items():
        assert (tmp_path / key).read_bytes() == data
    assert all(u.startswith(dl.HGCN_RAW) and dl.HGCN_COMMIT in u for u in log)
    assert load("disease_lp", root=tmp_path).num_nodes == 2665
    log.clear()
    download("disease_lp", root=tmp_path)  # present and correct: nothing fetched
    assert log == []


@real
def test_download_wrong_checksum_leaves_nothing(tmp_path, monkeypatch):
    files = {f"disease_nc/{p.name}": p.read_bytes() for p in (DATA / "disease_nc").iterdir()}
    files["disease_nc/disease_nc.labels.npy"] += b"tampered"
    monkeypatch.setattr(dl, "fetch", _serve(files, []))
    with pytest.raises(DatasetError, match=r"disease_nc\.labels\.npy: wrong checksum \(sha256"):
        download("disease_nc", root=tmp_path)
    assert not (tmp_path / "disease_nc" / "disease_nc.labels.npy").exists()
    assert not [p for p in (tmp_path / "disease_nc").iterdir() if p.name.endswith(".tmp")]


def test_download_unreachable_and_git_blob_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(dl, "fetch", _serve({}, []))
    with pytest.raises(DatasetError, match=r"could not download airport/airport\.p: .*404"):
        download("airport", root=tmp_path)
    # the two files SOURCE.md lacks are checked by git blob id, not accepted blindly
    monkeypatch.setattr(dl, "fetch", _serve({"pubmed/ind.pubmed.allx": b"not allx"}, []))
    with pytest.raises(DatasetError, match="wrong checksum \\(git-blob-sha1"):
        dl.download_file("pubmed/ind.pubmed.allx", tmp_path / "allx")
    monkeypatch.setattr(dl, "fetch", _serve({"airport/airport.p": b"x"}, []))
    monkeypatch.setitem(dl.CHECKSUMS, "airport/airport.p", ("sha256", hashlib.sha256(b"x").hexdigest()))

    def read_only(path, data):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(dl, "atomic_write_bytes", read_only)
    with pytest.raises(DatasetError, match="airport.p: cannot write the downloaded file \\(Permission denied\\)"):
        download("airport", root=tmp_path)
    with pytest.raises(DatasetError, match="cannot be downloaded"):
        download("synthetic-disease", root=tmp_path)


def test_git_blob_sha1_matches_git(tmp_path):
    p = tmp_path / "blob"
    p.write_bytes(b"hyperbolic\x00bytes\n")
    out = subprocess.run(["git", "hash-object", str(p)], capture_output=True, text=True, check=True)
    assert git_blob_sha1(p.read_bytes()) == out.stdout.strip()


def _run(argv):
    parser = argparse.ArgumentParser(prog="hypsst")
    add_data_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_list_and_info_synthetic(capsys):
    assert _run(["data", "list"]) == 0
    assert "synthetic-disease\tgenerated" in capsys.readouterr().out
    assert _run(["data", "info", "synthetic-disease", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert {"name", "nodes", "edges", "features", "classes", "delta"} <= set(r)
    assert (r["nodes"], r["edges"], r["classes"], r["delta"]) == (1000, 999, 2, 0.0)


@real
def test_cli_info_with_data_root(capsys, monkeypatch):
    monkeypatch.delenv("HYPSST_DATA")
    assert _run(["data", "--data-root", str(DATA), "info", "disease_nc", "--features", "identity"]) == 0
    out = capsys.readouterr().out
    assert "nodes: 1044" in out and "edges: 1043" in out
    assert _run(["data", "--data-root", str(DATA), "info", "disease_nc"]) == 0
    assert "features_kind: missing: disease_nc.feats.npz" in capsys.readouterr().out
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        _run(["data", "info", "nope"])
