"""Where each dataset file comes from, its checksum, and the checksum-verified atomic fetch
(named sources, not download, so it does not clash with the public ``download`` function).

Checksums: sha256 of every file present in ../shared/data/hgcn (its SOURCE.md). The two files
that folder lacks (``ind.pubmed.allx``, ``disease_nc.feats.npz``) are known only by their git
blob ids in HazyResearch/hgcn, so those are checked with git's blob hash
(sha1 of ``b"blob <size>\\0" + bytes``) instead: still a content check, not a skipped one.
"""
from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Callable

from hypsst.errors import DatasetError
from hypsst.io import atomic_write_bytes

from .files import check_digest

HGCN_COMMIT = "a526385744da25fc880f3da346e17d0fe33817f8"
HGCN_RAW = f"https://raw.githubusercontent.com/HazyResearch/hgcn/{HGCN_COMMIT}/data"
PLANETOID_RAW = "https://raw.githubusercontent.com/kimiyoung/planetoid/master/data"

_SHA256 = {
    "airport/airport.p": "ab16b04cea3666e87dbd8a5bff3de68da61330f4604fa21082f7a17e806e64d8",
    "cora/ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    "cora/ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    "cora/ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    "cora/ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    "cora/ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    "cora/ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    "cora/ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    "cora/ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    "disease_lp/disease_lp.edges.csv": "b5b7e41bbfd28fc7f61590e5587622103ee9c3aa1b59911c74873a6f328dca07",
    "disease_lp/disease_lp.feats.npz": "b4a726b13598c036a75e1b49f08e92820553b972966ad950b8d4d5416eb339f8",
    "disease_lp/disease_lp.labels.npy": "8f2b26602764fbb785b93775d9f71194f1f36920e185af8bc5c31aea07dde858",
    "disease_nc/disease_nc.edges.csv": "08b2dcf00db1e6a8f491af5294dee98197f1251a63bc9190d05fb4e77507782e",
    "disease_nc/disease_nc.labels.npy": "70be7f91a854d924f3b7ac423615d75b1f9ee2506261c44113de27cc2caadd51",
    "pubmed/ind.pubmed.ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
    "pubmed/ind.pubmed.graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
    "pubmed/ind.pubmed.test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    "pubmed/ind.pubmed.tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
    "pubmed/ind.pubmed.ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
    "pubmed/ind.pubmed.x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
    "pubmed/ind.pubmed.y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
}
_GIT_BLOB = {
    "disease_nc/disease_nc.feats.npz": "a80617c2b4ccf3f96b3adc936cf3d784451e459d",
    "pubmed/ind.pubmed.allx": "3b86bccf08111c37c632a9dd8ab63db25ea76361",
}
#: "<name>/<file>" -> ("sha256" | "git-blob-sha1", hex digest)
CHECKSUMS = {**{k: ("sha256", v) for k, v in _SHA256.items()},
             **{k: ("git-blob-sha1", v) for k, v in _GIT_BLOB.items()}}


def urls_for(key: str) -> list[str]:
    """Public sources of one file, tried in order (Planetoid's own repo first for cora/pubmed)."""
    name, fname = key.split("/", 1)
    urls = [f"{PLANETOID_RAW}/{fname}"] if name in ("cora", "pubmed") else []
    return urls + [f"{HGCN_RAW}/{key}"]


def _urlopen_bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


#: replaced in tests (no network there); takes a URL, returns its bytes or raises OSError
fetch: Callable[[str], bytes] = _urlopen_bytes


def download_file(key: str, dest: Path) -> Path:
    """Fetch ``key`` ("<name>/<file>"), check its checksum, write it atomically to ``dest``."""
    errors = []
    for url in urls_for(key):
        try:
            data = fetch(url)
        except OSError as e:
            errors.append(f"{url}: {e}")
            continue
        check_digest(data, CHECKSUMS[key], url)
        try:
            return atomic_write_bytes(dest, data)
        except OSError as e:
            raise DatasetError(f"{dest}: cannot write the downloaded file ({e.strerror}); "
                               f"choose a writable --data-root") from None
    raise DatasetError(f"could not download {key}: " + "; ".join(errors))
