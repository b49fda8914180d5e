"""The ``transformer`` player: a ChessFormer checkpoint at a sampling temperature.

Two decodings:

* ``sample`` (the paper's): characters are sampled one at a time with
  ``temperature`` and ``top_k`` until the move ends (a space), then read as
  SAN. An illegal or unreadable move is tried again by the arena (up to the
  league's ``illegal_attempts``); a result string (``1-0``...) resigns. With
  ``early_stop`` (the default) generation also stops as soon as the characters
  cannot begin any legal move in standard SAN or a result string: that reply
  is illegal whatever would follow, and is recorded as the characters so far.
  ``early_stop=false`` reads the whole token as the paper's code did (which
  also accepts over-specified SAN such as ``Ng1f3``).
* ``legal``: every legal move's SAN is scored under the model in one batched
  pass, and a move is drawn from that distribution over legal moves at
  ``temperature``. It never plays an illegal move, and records the
  distribution's entropy and the chosen move's log-probability.

A checkpoint with the ``move`` tokenizer predicts a move in one token: ``sample``
draws it (a token that is not a legal move is an illegal reply), ``legal``
draws from the legal moves' tokens.

All requests handed over together (the games a worker plays at once) run
through the model as one batch, and each game keeps its keys and values
between moves, so only the new moves' tokens are computed each time.
Temperature 0 is greedy. When a game's transcript no longer fits the model's
context, the player says so and the game ends by the league's move-cap rule.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any, Literal, Mapping

import chess
from pydantic import Field

from arena import ConfigError, Failure, MoveReply, MoveRequest, Player, Result
from arena.options import FilePath, Wording, checked_options
from arena.seeds import derive_seed

RESULTS = tuple(result.value for result in Result)  #: what a model may write instead of a move
MOVE_END = " "


@checked_options
class TransformerPlayer(Player):
    """A ChessFormer checkpoint: ``transformer:checkpoint=PATH,temperature=0.1,decoding=legal``."""

    option_abbreviations = {"temperature": "t"}
    axis = "temperature"

    def __init__(
        self,
        *,
        checkpoint: Annotated[
            FilePath, Field(description="the checkpoint file"), Wording("the path of a checkpoint (.pt) file")
        ],
        temperature: Annotated[float, Field(ge=0, description="sampling temperature; 0 is greedy")] = 1.0,
        top_k: Annotated[int | None, Field(ge=1, description="sample from the k likeliest tokens only")] = None,
        decoding: Annotated[
            Literal["sample", "legal"],
            Field(description="sample: characters until the move ends; legal: a draw over the legal moves"),
        ] = "sample",
        device: Annotated[
            str, Field(pattern=r"^(auto|cpu|cuda(:\d+)?)$", description="where the model runs; auto: CUDA if any"),
            Wording("auto, cpu, cuda or cuda:N"),
        ] = "auto",
        dtype: Annotated[
            Literal["auto", "float32", "bfloat16", "float16"],
            Field(description="the weights' dtype; auto: bfloat16 on CUDA, else float32"),
        ] = "auto",
        max_chars: Annotated[int, Field(ge=2, description="most characters a sampled move may take")] = 10,
        early_stop: Annotated[bool, Field(description="stop sampling once no legal move can follow")] = True,
    ) -> None:
        self.checkpoint = checkpoint
        self.temperature = temperature
        self.top_k = top_k
        self.decoding = decoding
        self.device_option, self.dtype_option = device, dtype
        self.max_chars = max_chars
        self.early_stop = early_stop
        check_file(checkpoint)
        self.model: Any = None
        self.session: Any = None

    def resources(self, cluster: Mapping[str, float]) -> dict[str, float]:
        # A GPU where it would run on one: device=cuda, or auto on a cluster that has GPUs.
        gpu = self.device_option.startswith("cuda") or (self.device_option == "auto" and cluster.get("GPU", 0) > 0)
        return {"CPU": 1.0, "GPU": 1.0} if gpu else {"CPU": 1.0}

    def default_name(self) -> str:
        return os.path.splitext(os.path.basename(self.checkpoint))[0]

    def start(self) -> None:
        import torch

        from .checkpoint import load_model

        model, self.tokenizer, self.meta = load_model(self.checkpoint)
        device = self.device_option
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"option device={device}: no CUDA device is available here; use device=cpu")
        dtype = self.dtype_option
        if dtype == "auto":
            dtype = "bfloat16" if device.startswith("cuda") else "float32"
        self.device = torch.device(device)
        self.model = model.to(device=self.device, dtype=getattr(torch, dtype))
        from .inference import Session
        from .tokenizer import MoveTokenizer, Prompts

        self.prompts = Prompts(self.tokenizer)
        self.per_move = isinstance(self.tokenizer, MoveTokenizer)
        if not self.per_move:
            self._end = self.tokenizer.encode(MOVE_END)[0]

        self.session = Session(self.model)

    def describe(self) -> dict[str, Any]:
        if self.model is None:
            return {}
        return {
            "checkpoint": self.checkpoint,
            "parameters": self.model.num_parameters(),
            "device": str(self.device),
            "dtype": str(next(self.model.parameters()).dtype).replace("torch.", ""),
            **({"iter_num": self.meta["iter_num"]} if isinstance(self.meta.get("iter_num"), int) else {}),
        }

    def game_over(self, game_id: str, board: chess.Board, result: str) -> None:
        if self.session is not None:
            self.session.release(game_id)
            self.prompts.forget(game_id)

    def close(self) -> None:
        self.model = self.session = None

    def choose(self, requests: list[MoveRequest]) -> list[MoveReply]:
        import torch

        started = time.perf_counter()
        replies: list[MoveReply | None] = [None] * len(requests)
        rows, prompts = [], []
        for i, request in enumerate(requests):
            try:
                prompt = self.prompts.prompt(request.game_id, request.board)
            except ValueError as error:
                replies[i] = MoveReply(failure=Failure.ERROR, detail=f"{self.name}: {error}")
                continue
            if len(prompt) + self._room(request.board) > self.model.config.block_size:
                replies[i] = MoveReply(
                    failure=Failure.CONTEXT_FULL,
                    detail=f"{self.name}: the transcript ({len(prompt)} tokens) fills the context",
                )
                continue
            rows.append(i)
            prompts.append(prompt)
        if rows:
            if self.per_move:
                decode = self._sample_move if self.decoding == "sample" else self._legal_move
            else:
                decode = self._sample if self.decoding == "sample" else self._legal
            with torch.inference_mode():
                chosen = decode([requests[i] for i in rows], prompts)
            for i, reply in zip(rows, chosen):
                replies[i] = reply
        elapsed = (time.perf_counter() - started) / len(requests)
        for reply in replies:
            assert reply is not None
            reply.elapsed = elapsed  # the batch's time, shared by its games
        return replies  # type: ignore[return-value]

    def _room(self, board: chess.Board) -> int:
        """Tokens the move takes after the prompt."""
        if self.per_move:
            return 1
        if self.decoding == "sample":
            return self.max_chars
        return max((len(board.san(move)) for move in board.legal_moves), default=0) + 1

    def _generator(self, request: MoveRequest) -> Any:
        import torch

        # One stream per game, position and attempt: a move never depends on the batch it ran in.
        seed = derive_seed(request.seed, "transformer", request.board.ply(), request.attempt)
        return torch.Generator().manual_seed(seed)

    def _pick(self, requests: list[MoveRequest], step: int, logits: Any, generators: list[Any]) -> list[tuple[int, float]]:
        """The token at ``step`` of each game's sampled move, and its log-probability: draws from ``logits``
        (one row per request)."""
        from .sampling import pick

        return pick(logits, self.temperature, self.top_k, generators)

    def _sample(self, requests: list[MoveRequest], prompts: list[list[int]]) -> list[MoveReply]:
        rows, logits = self.session.prefill([r.game_id for r in requests], prompts)
        generators = [self._generator(request) for request in requests]
        generated: list[list[int]] = [[] for _ in requests]
        logprob = [0.0] * len(requests)
        viable = [Spellings(request.board) for request in requests] if self.early_stop else None
        going = list(range(len(requests)))  #: the games whose move has not ended; ``logits`` has their rows
        for step in range(self.max_chars):
            picked = self._pick([requests[i] for i in going], step, logits, [generators[i] for i in going])
            still = []
            for i, (token, log_p) in zip(going, picked):
                generated[i].append(token)
                logprob[i] += log_p
                text = self.tokenizer.decode(generated[i])
                # The move ends at the first space after it began (or at a new game's ';'),
                # or as soon as its characters cannot begin any legal move or result.
                word = text.lstrip()
                ended = ((token == self._end and word != "") or text.endswith(";")
                         or (viable is not None and word != "" and not viable[i].begins(word)))
                if not ended:
                    still.append(i)
            if not still or step == self.max_chars - 1:
                break
            # Only the moves still going run on (a move's last token enters its row with the next prompt).
            going = still
            logits = self.session.step([rows[i] for i in going], [generated[i][-1] for i in going])
        return [
            self._read_move(request.board, self.tokenizer.decode(generated[row]), logprob[row])
            for row, request in enumerate(requests)
        ]

    def _read_move(self, board: chess.Board, raw: str, logprob: float) -> MoveReply:
        words = raw.replace(";", " ").split()
        text = words[0] if words else ""
        info = {"chars": raw, "logprob": round(logprob, 4)}
        if text in RESULTS:
            return MoveReply(resign=True, text=text, info=info)
        try:
            move = board.parse_san(text)
        except ValueError:
            return MoveReply(text=text, info=info)
        return MoveReply(move=move, text=text, info=info)

    def _legal(self, requests: list[MoveRequest], prompts: list[list[int]]) -> list[MoveReply]:
        import torch

        from .sampling import pick_from

        candidates = []
        for request in requests:
            moves = list(request.board.legal_moves)
            sans = [request.board.san(move) for move in moves]
            candidates.append((moves, sans, [self.tokenizer.encode(san + MOVE_END) for san in sans]))
        rows, last = self.session.prefill([r.game_id for r in requests], prompts)
        last = torch.log_softmax(last.float(), dim=-1).cpu()  # read move by move below: one copy to the host
        # Each move's characters but the last go in as a branch; the last is only predicted.
        branch_logprobs = self.session.tree(rows, [[tokens[:-1] for tokens in entry[2]] for entry in candidates])
        replies = []
        for row, (request, (moves, sans, encoded)) in enumerate(zip(requests, candidates)):
            scores = []
            for tokens, following in zip(encoded, branch_logprobs[row]):
                score = last[row, tokens[0]] + following[torch.arange(len(tokens) - 1), torch.tensor(tokens[1:])].sum()
                scores.append(float(score))
            index, facts = pick_from(scores, self.temperature, self._generator(request))
            facts["top"] = {sans[i]: p for i, p in facts.pop("top")}
            replies.append(MoveReply(move=moves[index], text=sans[index], info=facts))
        return replies

    def _legal_move(self, requests: list[MoveRequest], prompts: list[list[int]]) -> list[MoveReply]:
        import torch

        from .sampling import pick_from

        _, last = self.session.prefill([r.game_id for r in requests], prompts)
        last = torch.log_softmax(last.float(), dim=-1).cpu()  # read game by game below: one copy to the host
        replies = []
        for row, request in enumerate(requests):
            moves = list(request.board.legal_moves)
            scores = last[row, self.tokenizer.encode(moves)].tolist()
            index, facts = pick_from(scores, self.temperature, self._generator(request))
            facts["top"] = {request.board.san(moves[i]): p for i, p in facts.pop("top")}
            replies.append(MoveReply(move=moves[index], text=request.board.san(moves[index]), info=facts))
        return replies

    def _sample_move(self, requests: list[MoveRequest], prompts: list[list[int]]) -> list[MoveReply]:
        _, last = self.session.prefill([r.game_id for r in requests], prompts)
        picked = self._pick(requests, 0, last, [self._generator(request) for request in requests])
        replies = []
        for request, (token, logprob) in zip(requests, picked):
            text = self.tokenizer.decode([token])
            info = {"chars": text, "logprob": round(logprob, 4)}
            move = chess.Move.from_uci(text) if token else None
            if move is None or not request.board.is_legal(move):
                replies.append(MoveReply(text=text, info=info))
            else:
                replies.append(MoveReply(move=move, text=request.board.san(move), info=info))
        return replies


def check_file(checkpoint: str) -> None:
    """Refuse a checkpoint that is not one now, when the league or command is read.

    Otherwise a broken file would only fail in ``start``, inside a worker, as a crash
    that names no file. The check reads the file's structure, not its weights.
    """
    from .checkpoint import check_checkpoint  # imports torch: only once a transformer player is built

    check_checkpoint(checkpoint)


class Spellings:
    """What a sampled move's characters may still become at ``board``: a legal move in standard SAN
    (check marks optional, castling also with zeros) or a result string; generation stops once
    they cannot."""

    def __init__(self, board: chess.Board):
        stems = san_stems(board)
        self.stems = stems + [stem.replace("O", "0") for stem in stems if stem.startswith("O")]

    def begins(self, word: str) -> bool:
        """Whether ``word`` is the beginning (or the whole) of a legal move's spelling or of a result."""
        if word[-1:] in ("+", "#"):  # a mark ends a move: what it follows must be a whole move
            return word[:-1] in self.stems
        return any(stem.startswith(word) for stem in self.stems) or any(r.startswith(word) for r in RESULTS)


def san_stems(board: chess.Board) -> list[str]:
    """Every legal move's SAN without its check mark, in ``board.legal_moves`` order.

    ``board.san`` plays each move to see whether it gives check or mate, which is most
    of its cost; early stop has no use for the mark, and asks at every move of every game.
    """
    moves = list(board.legal_moves)
    arrivals: dict[tuple[int, int], list[int]] = {}  #: (piece type, target) -> the squares it can come from
    for move in moves:
        arrivals.setdefault((board.piece_type_at(move.from_square), move.to_square), []).append(move.from_square)
    stems = []
    for move in moves:
        piece = board.piece_type_at(move.from_square)
        target = chess.square_name(move.to_square)
        capture = "x" if board.is_capture(move) else ""
        if board.is_castling(move):
            stems.append("O-O" if chess.square_file(move.to_square) > chess.square_file(move.from_square) else "O-O-O")
        elif piece == chess.PAWN:
            origin = chess.FILE_NAMES[chess.square_file(move.from_square)] if capture else ""
            promotion = f"={chess.piece_symbol(move.promotion).upper()}" if move.promotion else ""
            stems.append(f"{origin}{capture}{target}{promotion}")
        else:
            rivals = [square for square in arrivals[piece, move.to_square] if square != move.from_square]
            origin = ""
            if rivals:  # the file if it tells them apart, else the rank, else both
                file, rank = chess.square_file(move.from_square), chess.square_rank(move.from_square)
                if all(chess.square_file(square) != file for square in rivals):
                    origin = chess.FILE_NAMES[file]
                elif all(chess.square_rank(square) != rank for square in rivals):
                    origin = chess.RANK_NAMES[rank]
                else:
                    origin = chess.square_name(move.from_square)
            stems.append(f"{chess.piece_symbol(piece).upper()}{origin}{capture}{target}")
    return stems
