"""Call flows: frozen models loaded from `flows/*.yaml` and checked before the first call."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ivr.errors import ContentError

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
PromptKey = Annotated[str, Field(pattern=r"^[a-z0-9_.]+$")]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]

# The state token spends six bits of a byte on a criterion's index (two on its answer).
MAX_CRITERIA = 63
# Query parameters the voice webhooks already use; a criterion's code must not shadow them.
RESERVED_CODES = frozenset({"s", "silence", "intro", "cp"})


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Criterion(Model):
    """One yes/no question a caller can answer about themselves."""

    id: Identifier
    prompt: PromptKey
    help: PromptKey
    label: PromptKey
    prior: Probability
    pinned: bool = False
    gate: bool = False
    # A short name for an operator's query string (?nf=1); the id when absent.
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=20)] | None = None
    # A few words for the advisor's whisper, where every second counts; the label when absent.
    short: PromptKey | None = None
    # Where to get the item when the caller lacks it (« Votre banque vous donne un RIB »).
    obtain: PromptKey | None = None

    @property
    def query_name(self) -> str:
        """The name of this criterion in a transfer URL's query string."""
        return self.code or self.id


class Provider(Model):
    """An identity provider: usable when every one of its criteria is answered yes."""

    id: Identifier
    name: PromptKey
    site: str = Field(min_length=3)
    criteria: tuple[Identifier, ...] = Field(min_length=1)
    caution: PromptKey | None = None
    # What to have at hand, or bring to France Services, to create the account.
    bring: tuple[PromptKey, ...] = ()
    # The provider's own help line, digits only (« 3646 », « 0969399111 »): said twice, in pairs.
    phone: Annotated[str, Field(pattern=r"^[0-9]{4,10}$")] | None = None


class Implication(Model):
    """A yes to `if_` is a yes to `then`, so a no to `then` is a no to `if_`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    if_: Identifier = Field(alias="if")
    then: Identifier


class Exclusion(Model):
    """A yes to `if_` makes provider `excludes` unusable, whatever its criteria."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    if_: Identifier = Field(alias="if")
    excludes: Identifier


class Flow(Model):
    """A whole call: its criteria, providers, implications, exclusions and next steps."""

    id: Identifier
    version: int = Field(ge=1)
    criteria: tuple[Criterion, ...] = Field(min_length=1, max_length=MAX_CRITERIA)
    providers: tuple[Provider, ...] = Field(min_length=1)
    implications: tuple[Implication, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    steps: tuple[PromptKey, ...] = Field(min_length=1)
    digest: str = ""

    @model_validator(mode="after")
    def _check_references(self) -> Flow:
        _unique("criteria", (c.id for c in self.criteria))
        _unique("providers", (p.id for p in self.providers))
        names: dict[str, str] = {}
        for i, c in enumerate(self.criteria):
            if c.query_name in names:
                raise ValueError(
                    f"criteria[{i}].code: a query name of its own ('{c.query_name}' is already "
                    f"criterion '{names[c.query_name]}')"
                )
            names[c.query_name] = c.id
            if c.query_name in RESERVED_CODES:
                reserved = ", ".join(sorted(RESERVED_CODES))
                raise ValueError(f"criteria[{i}].code: a name other than {reserved} (used by the webhooks)")
        known = {c.id for c in self.criteria}
        for i, provider in enumerate(self.providers):
            _unique(f"providers[{i}].criteria", provider.criteria)
            for j, cid in enumerate(provider.criteria):
                if cid not in known:
                    raise ValueError(f"providers[{i}].criteria[{j}]: unknown criterion '{cid}'")
                if self.criterion(cid).gate:
                    raise ValueError(f"providers[{i}].criteria[{j}]: '{cid}' is a gate, asked of everyone")
        for i, rule in enumerate(self.implications):
            for side, cid in (("if", rule.if_), ("then", rule.then)):
                if cid not in known:
                    raise ValueError(f"implications[{i}].{side}: unknown criterion '{cid}'")
        self._check_exclusions(known)
        return self

    def _check_exclusions(self, known: set[str]) -> None:
        """Refuse an exclusion naming nothing, or one that no caller could ever get past."""
        providers = {p.id: p for p in self.providers}
        seen: set[tuple[str, str]] = set()
        for i, rule in enumerate(self.exclusions):
            where = f"exclusions[{i}]"
            if rule.if_ not in known:
                raise ValueError(f"{where}.if: unknown criterion '{rule.if_}'")
            if rule.excludes not in providers:
                raise ValueError(f"{where}.excludes: unknown provider '{rule.excludes}'")
            if self.criterion(rule.if_).gate:
                raise ValueError(f"{where}.if: a criterion other than a gate ('{rule.if_}' is asked of "
                                 f"everyone and must be yes, so '{rule.excludes}' could never be usable)")
            if (rule.if_, rule.excludes) in seen:
                raise ValueError(f"{where}: one exclusion per pair ('{rule.if_}' already excludes "
                                 f"'{rule.excludes}')")
            seen.add((rule.if_, rule.excludes))
            # A provider is usable only with every gate and criterion at yes: if one of them is, or
            # implies, the excluding criterion, no caller can ever use it.
            needed = providers[rule.excludes].criteria
            for cid in (*self.gates, *needed):
                if rule.if_ in self._implied(cid):
                    if cid == rule.if_:
                        why = f"'{cid}' is one of its criteria"
                    elif cid in needed:
                        why = f"'{cid}', one of its criteria, implies '{rule.if_}'"
                    else:
                        why = f"'{cid}', a gate every caller passes, implies '{rule.if_}'"
                    raise ValueError(f"{where}.if: a criterion that provider '{rule.excludes}' does not "
                                     f"need ({why}: '{rule.excludes}' could never be usable)")

    def _implied(self, cid: str) -> set[str]:
        """The criteria a yes to `cid` makes yes through the implications, itself included."""
        found, todo = {cid}, [cid]
        while todo:
            here = todo.pop()
            for rule in self.implications:
                if rule.if_ == here and rule.then not in found:
                    found.add(rule.then)
                    todo.append(rule.then)
        return found

    # The lookups below are cached on the instance, and pydantic's model_copy would carry them over:
    # build a variant of a flow with Flow.model_validate (as bench/optimum.py's flat does).
    def criterion(self, cid: str) -> Criterion:
        """The criterion with this id."""
        return self._by_id[cid]

    def index(self, cid: str) -> int:
        """The position of a criterion in the flow, used by the state token."""
        return self._index[cid]

    @cached_property
    def _by_id(self) -> dict[str, Criterion]:
        return {c.id: c for c in self.criteria}

    @cached_property
    def _index(self) -> dict[str, int]:
        return {c.id: i for i, c in enumerate(self.criteria)}

    def by_code(self, code: str) -> str | None:
        """The id of the criterion with this query name, if any."""
        return self._codes.get(code)

    @cached_property
    def _codes(self) -> dict[str, str]:
        return {c.query_name: c.id for c in self.criteria}

    def excluders(self, pid: str) -> tuple[str, ...]:
        """The criteria whose yes makes provider `pid` unusable, in flow order."""
        return self._excluders.get(pid, ())

    @cached_property
    def _excluders(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for rule in self.exclusions:
            found.setdefault(rule.excludes, []).append(rule.if_)
        return {pid: tuple(sorted(cids, key=self.index)) for pid, cids in found.items()}

    @cached_property
    def gates(self) -> tuple[str, ...]:
        """Criteria every caller must meet, asked before anything else."""
        return tuple(c.id for c in self.criteria if c.gate)

    def prompt_keys(self) -> Iterable[tuple[str, str]]:
        """Every (field, prompt key) the flow refers to."""
        for i, c in enumerate(self.criteria):
            for name in ("prompt", "help", "label"):
                yield f"criteria[{i}].{name}", getattr(c, name)
            for name in ("short", "obtain"):
                if getattr(c, name):
                    yield f"criteria[{i}].{name}", getattr(c, name)
        for i, p in enumerate(self.providers):
            yield f"providers[{i}].name", p.name
            if p.caution:
                yield f"providers[{i}].caution", p.caution
            for j, key in enumerate(p.bring):
                yield f"providers[{i}].bring[{j}]", key
        for i, key in enumerate(self.steps):
            yield f"steps[{i}]", key


def _unique(field: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for cid in ids:
        if cid in seen:
            raise ValueError(f"{field}: duplicate id '{cid}'")
        seen.add(cid)


def load_flow(path: str | Path) -> Flow:
    """Read and validate one flow file; raise ContentError naming what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContentError(path, "file", f"a readable flow file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise ContentError(path, where, f"valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(data, dict):
        raise ContentError(path, "file", "a mapping with id, version, criteria, providers, steps")
    if "digest" in data:
        raise ContentError(path, "digest", "no such field (it is computed from the file)")
    data["digest"] = hashlib.blake2s(raw, digest_size=8).hexdigest()
    try:
        return Flow.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "file"
        message = first["msg"].removeprefix("Value error, ")
        if ": " in message and not first["loc"]:
            field, message = message.split(": ", 1)
        raise ContentError(path, field, message) from exc
