"""Battles: two contestants answer one prompt side by side; a voter picks A, B, tie or both bad.

    arena = Arena(VoteStore(), pool=["smollm2-135m-instruct", "smollm2-135m-instruct@creative"])
    battle = arena.new_battle("Why is the sky blue?", session="s1")        # anonymous: random pair
    for text_a, text_b in arena.run(battle, max_new_tokens=64):            # both stream at once
        ...
    reveal = arena.vote(battle, "model_a")                                  # stored, then revealed

`Arena` is the one shared object of a classroom (its store is one SQLite file with its own
locking). A class's pool is its teacher's and lives in the class database (`pools`, e.g. an
apps.auth ClassStore), so an edit survives a restart and every server of the class sees it; a `Battle` belongs to one voter's session (kept in that browser's gr.State). A battle's
id is the vote's idempotency key: a vote sent twice (double click, retry) is stored once.
"""
from __future__ import annotations

import queue
import random
import threading
import time
from dataclasses import dataclass, field

from apps.arena import contestants as C
from apps.arena.ratings import WINNERS
from apps.arena.store import Vote, VoteStore, default_db_path, new_id
from apps.errors import LabError

ANONY, NAMED = "anony", "named"


@dataclass
class Battle:
    """One voter's battle. `a`, `b` are Contestants; responses fill in while `run` streams."""

    prompt: str
    a: C.Contestant
    b: C.Contestant
    mode: str = ANONY
    session: str = ""
    battle_id: str = field(default_factory=new_id)
    responses: list = field(default_factory=lambda: ["", ""])
    finished: bool = False
    winner: str | None = None
    started: float = field(default_factory=time.time)

    def public(self, reveal: bool = False) -> dict:
        """What the voter may see: names only in named mode or after the vote."""
        show = reveal or self.mode == NAMED or self.winner is not None
        return {"battle_id": self.battle_id, "mode": self.mode, "prompt": self.prompt,
                "model_a": self.a.name if show else None, "model_b": self.b.name if show else None,
                "responses": list(self.responses), "winner": self.winner}


class Arena:
    """A shared arena: a pool of contestants and a vote store."""

    def __init__(self, store: VoteStore | None = None, pool: list | None = None, cache=None, pools=None,
                 runs_root=None):
        """`pools`: where class pools are kept (pool(class_id) -> list[dict] | None and
        set_pool(class_id, list[dict], by)); None keeps them in memory only (tests, scripts).
        `runs_root`: the fine-tuning runs folder users bring tuned models from (default $LLMLAB_RUNS)."""
        self.runs_root = runs_root
        self._store = store
        self.pools = pools
        self._stores: dict[str, VoteStore] = {}
        self.cache = cache
        self._lock = threading.Lock()
        self.pool: list[C.Contestant] = [C.parse(s) for s in (pool if pool is not None else C.default_pool())]
        self._class_pools: dict[int, list[C.Contestant]] = {}  # class id → the pool its teacher set

    def pool_for(self, user=None) -> list[C.Contestant]:
        """The contestants `user` battles: their class's pool (set by the teacher), else the default."""
        class_id = getattr(user, "class_id", None)
        if class_id is not None and self.pools is not None:
            stored = self.pools.pool(class_id)  # read on each use: another server may have changed it
            if stored is not None:
                return [C.parse(d) for d in stored]
        with self._lock:
            if class_id is not None and class_id in self._class_pools:
                return list(self._class_pools[class_id])
            return list(self.pool)

    @property
    def store(self) -> VoteStore:
        """The given store, else the default database, looked up on each use so that a server
        follows $LLMLAB_ARENA_DB (a classroom points every server at one shared file)."""
        if self._store is not None:
            return self._store
        path = str(default_db_path())
        with self._lock:
            if path not in self._stores:
                self._stores[path] = VoteStore(path)
            return self._stores[path]

    def set_pool(self, specs: list, user=None) -> list[C.Contestant]:
        """Replace the pool: a teacher's edit sets their class's pool (personal mode: the one pool).
        A student may not edit it: a poisoned pool (an API model at the student's URL) would send
        the next voter's key there. `user=None`: the trusted local caller."""
        if user is not None:
            from apps.auth.users import require_teacher

            require_teacher(user)
        parsed = [C.parse(s) for s in specs]
        if user is not None and user.class_id is not None and self.pools is not None:
            self.pools.set_pool(user.class_id, [c.settings() for c in parsed], by=user.id)
        with self._lock:
            if user is not None and user.class_id is not None:
                self._class_pools[user.class_id] = parsed
            else:
                self.pool = parsed
        return parsed

    def pick_pair(self, rng: random.Random | None = None, user=None) -> tuple[C.Contestant, C.Contestant]:
        """Two different contestants, uniformly over pairs, sides shuffled."""
        pool = self.pool_for(user)
        if len({c.name for c in pool}) < 2:
            raise LabError("arena.need_two", n=len(pool))
        rng = rng or random.Random()
        while True:
            a, b = rng.sample(pool, 2)
            if a.name != b.name:
                return a, b

    def new_battle(self, prompt: str, a=None, b=None, session: str = "", rng: random.Random | None = None,
                   user=None) -> Battle:
        """Anonymous when a and b are None (a random pair), named when both are given. With a
        `user` (a web request) the vote is recorded under user.id and a student's named battle may
        only use contestants of their pool, by name, and their own fine-tuned runs ('tuned:<id>')."""
        if not (prompt or "").strip():
            raise LabError("gen.empty_prompt")
        if user is not None:
            session = user.id
        if a is None or b is None:
            a, b = self.pick_pair(rng, user)
            mode = ANONY
        elif user is not None and not user.is_teacher:
            by_name = {c.name: c for c in self.pool_for(user)}

            def pick(x):  # a pool contestant by name, or one of the student's own fine-tuned runs
                if isinstance(x, str) and x.strip().startswith(C.TUNED):
                    return C.resolve_tuned(x, user, self.runs_root)
                if x not in by_name:
                    raise LabError("arena.not_in_pool", names=", ".join(by_name))
                return by_name[x]
            a, b, mode = pick(a), pick(b), NAMED
        else:
            a, b, mode = C.for_user(a, user, self.runs_root), C.for_user(b, user, self.runs_root), NAMED
        if a.name == b.name:
            raise LabError("arena.same_pair")
        return Battle(prompt=prompt.strip(), a=a, b=b, mode=mode, session=session)

    def run(self, battle: Battle, max_new_tokens: int = 128, cancel: threading.Event | None = None,
            api_key: str | None = None, seed: int | None = None):
        """Stream both replies at once; yields (text_a, text_b) whenever either grows.

        Each side runs in its own thread and posts (side, text) to a queue, so a slow API model
        never holds back a fast local one. An error on either side stops both and is raised here.
        """
        cancel = cancel or threading.Event()
        updates: queue.Queue = queue.Queue()

        def worker(side: int, contestant: C.Contestant):
            try:
                for text in contestant.stream(battle.prompt, max_new_tokens, cancel, self.cache, api_key, seed):
                    updates.put((side, text, None))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
                cancel.set()
                updates.put((side, None, exc))
            finally:
                updates.put((side, None, None))

        threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate((battle.a, battle.b))]
        for th in threads:
            th.start()
        running, error = 2, None
        try:
            while running:
                side, text, exc = updates.get()
                if exc is not None:
                    error = error or exc
                elif text is None:
                    running -= 1
                else:
                    battle.responses[side] = text
                    yield tuple(battle.responses)
        finally:
            if running:  # the consumer went away (closed generator): stop both sides
                cancel.set()
            for th in threads:
                th.join(timeout=30)
        if error is not None:
            raise error
        battle.finished = True
        yield tuple(battle.responses)

    def vote(self, battle: Battle, winner: str, judge: str = "", source: str = "human") -> dict:
        """Store the vote (once per battle) and reveal both contestants."""
        if battle is None:
            raise LabError("arena.no_battle")
        if winner not in WINNERS:
            raise LabError("arena.bad_winner", line=1, winner=winner, choices=", ".join(WINNERS))
        if not battle.finished:
            raise LabError("arena.not_finished")
        if battle.winner is not None and battle.winner != winner:
            raise LabError("arena.already_voted")
        vote = Vote(model_a=battle.a.name, model_b=battle.b.name, winner=winner, prompt=battle.prompt,
                    response_a=battle.responses[0], response_b=battle.responses[1],
                    settings_a=battle.a.settings(), settings_b=battle.b.settings(), session=battle.session,
                    mode=battle.mode if source == "human" else source, source=source, judge=judge,
                    vote_id=battle.battle_id)
        stored = self.store.add(vote)
        battle.winner = winner
        return {**battle.public(reveal=True), "stored": stored}
