"""Any arena player as a UCI engine: the protocol on a pair of text streams.

The server builds the player from its spec and answers a GUI or tournament
manager: ``uci`` (the player's name and its declared options), ``isready``,
``ucinewgame``, ``position startpos|fen ... moves ...``, ``go`` (with any
limits; ``infinite`` holds the move until ``stop``), ``stop``, ``setoption``
(the player is rebuilt with the new value before its next move) and ``quit``.

A game is the positions between two ``ucinewgame``: its requests share one game
id, so a model keeps its cache from move to move as in a league. UCI has no
resignation and no failure, so a player that resigns, fails or keeps replying
with illegal moves answers with a legal move drawn from the seed instead, and
says so in an ``info string``; a line the server cannot read is reported the
same way and ignored. Nothing but protocol goes to the output stream.
"""

from __future__ import annotations

import inspect
import math
import random
from dataclasses import replace
from typing import Any, TextIO

import chess

from arena.errors import ArenaError
from arena.player import Clock, MoveReply, MoveRequest, Player
from arena.seeds import derive_seed
from arena.spec import PlayerSpec, accepted_options, build_player, parse_scalar

#: Replies a player may give per position before its fallback move is played (a league's default).
ATTEMPTS = 3
#: ``go`` words followed by a number, and the ones that stand alone.
GO_NUMBERS = {"wtime", "btime", "winc", "binc", "movestogo", "depth", "nodes", "mate", "movetime"}
GO_FLAGS = {"infinite", "ponder"}


class UciServer:
    """Serves one player over UCI: call :meth:`serve` with the input lines."""

    def __init__(self, spec: PlayerSpec, plugins: Any, seed: int, out: TextIO):
        self.spec, self.plugins, self.seed, self.out = spec, plugins, seed, out
        self.player: Player = build_player(spec, plugins)  # options checked now: a bad spec fails before "uci"
        self.started = False
        self.board = chess.Board()
        self.game = 0
        self.held: str | None = None  #: the bestmove line of a ``go infinite``, sent at ``stop``

    def send(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def serve(self, lines: Any) -> None:
        """Answer each line until ``quit`` or the end of the input."""
        try:
            for raw in lines:
                line = " ".join(raw.split())
                if line and not self.handle(line):
                    break
        finally:
            if self.started:
                self.player.close()

    def handle(self, line: str) -> bool:
        """Answer one command; False at ``quit``."""
        command, _, rest = line.partition(" ")
        try:
            if command == "quit":
                return False
            if command == "uci":
                self._identify()
            elif command == "isready":
                self._start()
                self.send("readyok")
            elif command == "ucinewgame":
                self._new_game()
            elif command == "position":
                self.board = parse_position(rest)
            elif command == "go":
                self._go(rest)
            elif command == "stop":
                if self.held is not None:
                    self.send(self.held)
                    self.held = None
            elif command == "setoption":
                self._set_option(rest)
            elif command in ("debug", "register", "ponderhit"):
                pass  # nothing to do for a player that answers at once
            else:
                self.send(f"info string unknown command ignored: {line}")
        except (ArenaError, ValueError) as error:
            self.send(f"info string error: {error}; ignored: {line}")
        return True

    # -- commands -----------------------------------------------------------------------------------

    def _identify(self) -> None:
        self.send(f"id name {self.player.name}")
        self.send("id author arena")
        defaults = {name: parameter.default for name, parameter in
                    inspect.signature(type(self.player)).parameters.items()}
        for name in accepted_options(type(self.player)):
            value = self.spec.options.get(name, defaults.get(name))
            shown = "<empty>" if value is None or value is inspect.Parameter.empty else str(value)
            self.send(f"option name {name} type string default {shown}")
        self.send("uciok")

    def _start(self) -> None:
        if not self.started:
            self.player.start()
            self.started = True

    def _new_game(self) -> None:
        if self.started:
            self.player.game_over(self._game_id(), self.board, "*")
        self.game += 1
        self.board = chess.Board()

    def _set_option(self, rest: str) -> None:
        words = rest.split(" ")
        if not words or words[0] != "name":
            raise ValueError("setoption needs 'name NAME [value VALUE]'")
        name, _, value = " ".join(words[1:]).partition(" value ")
        spec = replace(self.spec, options={**self.spec.options, name.strip(): parse_scalar(value.strip())})
        player = build_player(spec, self.plugins)  # checks the value
        if self.started:
            self.player.close()
        self.spec, self.player, self.started = spec, player, False

    def _go(self, rest: str) -> None:
        limits, unread = parse_go(rest)
        if unread:  # as engines do: the rest of the line still counts, and a move still comes
            self.send(f"info string go: ignored {' '.join(unread)!r}")
        self._start()
        line = self._bestmove(limits)
        if "infinite" in limits:
            self.held = line  # UCI: the move of an infinite search waits for "stop"
        else:
            self.send(line)

    # -- moves --------------------------------------------------------------------------------------

    def _game_id(self) -> str:
        return f"uci-{self.game}"

    def _bestmove(self, limits: dict[str, float]) -> str:
        board = self.board
        if not any(board.legal_moves):
            self.send("info string the game is over: no legal move")
            return "bestmove 0000"
        clock = None
        if "wtime" in limits or "btime" in limits:
            clock = Clock(limits.get("wtime", 0) / 1000, limits.get("btime", 0) / 1000,
                          limits.get("winc", 0) / 1000, limits.get("binc", 0) / 1000)
        seed = derive_seed(self.seed, "uci", self.game)
        why = ""
        for attempt in range(ATTEMPTS):
            request = MoveRequest(self._game_id(), board.copy(), seed=seed, attempt=attempt, clock=clock)
            reply = self.player.choose([request])[0]
            for info in info_lines(reply):
                self.send(info)
            if reply.move is not None and board.is_legal(reply.move):
                return f"bestmove {reply.move.uci()}"
            why = describe_failure(reply)
            if reply.resign or reply.failure is not None:
                break
        fallback = random.Random(derive_seed(seed, "fallback", board.ply())).choice(sorted(
            board.legal_moves, key=chess.Move.uci))
        self.send(f"info string {self.player.name} {why}; UCI has no resignation or failure: "
                  f"playing a legal move drawn from the seed instead")
        return f"bestmove {fallback.uci()}"


def parse_position(rest: str) -> chess.Board:
    """The board of ``position startpos|fen FEN [moves M...]``; raises ValueError naming what is wrong."""
    words = rest.split(" ")
    if words[0] == "startpos":
        board, words = chess.Board(), words[1:]
    elif words[0] == "fen":
        fen_words = words[1:words.index("moves")] if "moves" in words else words[1:]
        board = chess.Board(" ".join(fen_words))  # ValueError for a bad FEN
        words = words[1 + len(fen_words):]
    else:
        raise ValueError("position needs 'startpos' or 'fen FEN'")
    if words and words[0] != "moves":
        raise ValueError(f"expected 'moves' after the position, not {words[0]!r}")
    for text in words[1:]:
        move = chess.Move.from_uci(text)  # ValueError for a malformed move
        if not board.is_legal(move):
            raise ValueError(f"move {text} is not legal in {board.fen()}")
        board.push(move)
    return board


def parse_go(rest: str) -> tuple[dict[str, float], list[str]]:
    """``go``'s limits as a mapping (flags map to 1), and the words it could not read."""
    words, limits, unread = rest.split(" ") if rest else [], {}, []
    index = 0
    while index < len(words):
        word = words[index]
        if word in GO_FLAGS:
            limits[word] = 1.0
            index += 1
        elif word in GO_NUMBERS and index + 1 < len(words) and _is_number(words[index + 1]):
            limits[word] = float(words[index + 1])
            index += 2
        elif word == "searchmoves":
            break  # the rest are moves to restrict the search to: a player chooses among all its moves
        else:
            unread.append(word)
            index += 1
    return limits, unread


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def info_lines(reply: MoveReply) -> list[str]:
    """What a reply knows, as UCI ``info`` lines: an engine's search facts as they are, the rest as
    a string (a model's move probability, entropy and characters)."""
    info = reply.info or {}
    search = [f"{key} {info[key]}" for key in ("depth", "nodes") if isinstance(info.get(key), int)]
    search += [f"score {key} {info[key]}" for key in ("cp", "mate") if isinstance(info.get(key), int)]
    facts = [f"{key} {value}" for key, value in info.items()
             if key not in ("depth", "nodes", "cp", "mate") and isinstance(value, (int, float, str))]
    if isinstance(info.get("logprob"), (int, float)):
        facts.append(f"probability {math.exp(info['logprob']):.4f}")
    return (["info " + " ".join(search)] if search else []) + (["info string " + " ".join(facts)] if facts else [])


def describe_failure(reply: MoveReply) -> str:
    if reply.resign:
        return f"resigned ({reply.text})" if reply.text else "resigned"
    if reply.failure is not None:
        return f"failed ({reply.failure}{': ' + reply.detail if reply.detail else ''})"
    return f"replied with an illegal move ({reply.text or reply.move})"
