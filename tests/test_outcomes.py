"""Outcomes are typed: a Result scores a game, a Forfeit says how a loss was lost, a Failure names a fault."""

from __future__ import annotations

import json

import chess
import pytest

from arena.play.driver import play_games
from arena.play.game import Game, GameRules, Side
from arena.rating.pgn_games import read_pgn_games
from arena.player import Failure, MoveReply, Player
from arena.play.record import Forfeit, GameRecord, PlayerEntry, Result, Termination, forfeit_of
from arena.rating.standings import results_of

#: A games.jsonl line as arena wrote it before results were typed: it must load and be written back unchanged.
OLD_LINE = (
    '{"game_id":"a|b|1","seed":7,'
    '"white":{"name":"a","type":"random","options":{},"info":{},"time_control":null},'
    '"black":{"name":"b","type":"random","options":{},"info":{},"time_control":null},"result":"1-0",'
    '"termination":"illegal_move","moves":[{"uci":"e2e4","san":"e4","elapsed":0.01,"clock":null,"illegal":[],'
    '"info":{},"book":false}],"detail":"b made 1 illegal move attempt(s): \'zz\'",'
    '"white_stats":{"illegal_attempts":0,"timeouts":0,"crashes":0,"errors":0},'
    '"black_stats":{"illegal_attempts":1,"timeouts":0,"crashes":0,"errors":0},"event":"arena","round":"1",'
    '"start_fen":null,"started_at":"2024-05-01T10:00:00+00:00","finished_at":"2024-05-01T10:00:01+00:00",'
    '"arena_version":"0.1.0","plies":1}'
)


@pytest.mark.parametrize(
    ("text", "winner", "white", "black"),
    [("1-0", chess.WHITE, 1.0, 0.0), ("0-1", chess.BLACK, 0.0, 1.0), ("1/2-1/2", None, 0.5, 0.5)],
)
def test_results_parse_and_score_both_colours(text, winner, white, black):
    result = Result.parse(text)
    assert result == text and str(result) == text and f"{result}" == text
    assert result.winner == winner
    assert result.white_points == result.points_for(chess.WHITE) == white
    assert result.points_for(chess.BLACK) == black


def test_wins_and_losses_are_named_by_colour():
    assert Result.win_for(chess.WHITE) is Result.loss_for(chess.BLACK) is Result.WHITE_WINS
    assert Result.win_for(chess.BLACK) is Result.loss_for(chess.WHITE) is Result.BLACK_WINS


@pytest.mark.parametrize("text", ["*", "1-1", "½-½", "", "1-0 "])
def test_anything_else_is_not_a_result(text):
    with pytest.raises(ValueError, match="expected one of 1-0, 0-1, 1/2-1/2"):
        Result.parse(text)


EXPECTED_FORFEITS = {
    Termination.CHECKMATE: None,
    Termination.STALEMATE: None,
    Termination.INSUFFICIENT_MATERIAL: None,
    Termination.THREEFOLD_REPETITION: None,
    Termination.FIFTY_MOVES: None,
    Termination.FIVEFOLD_REPETITION: None,
    Termination.SEVENTYFIVE_MOVES: None,
    Termination.MOVE_CAP: None,
    Termination.CONTEXT_FULL: None,
    Termination.ADJUDICATION: None,
    Termination.RESIGNATION: None,
    Termination.ILLEGAL_MOVE: Forfeit.ILLEGAL,
    Termination.CRASH: Forfeit.FAULT,
    Termination.TIME_FORFEIT: Forfeit.FAULT,
    Termination.TIMEOUT: Forfeit.FAULT,
    Termination.PLAYER_ERROR: Forfeit.FAULT,
}


def test_every_termination_has_one_forfeit_class():
    assert set(EXPECTED_FORFEITS) == set(Termination)
    for termination, forfeit in EXPECTED_FORFEITS.items():
        assert termination.forfeit is forfeit, termination
        assert termination.is_forfeit == (forfeit is not None)
        assert forfeit_of(termination, Result.BLACK_WINS) is forfeit
        assert forfeit_of(termination, Result.DRAW) is None  # nobody lost a drawn game


def test_a_drawn_time_forfeit_is_no_forfeit_in_the_standings():
    record = GameRecord.from_dict(json.loads(OLD_LINE))
    record.result, record.termination = Result.DRAW, Termination.TIME_FORFEIT
    (drawn,) = results_of([record])
    assert (drawn.score, drawn.forfeit) == (0.5, None)
    record.result = Result.BLACK_WINS
    (lost,) = results_of([record])
    assert (lost.score, lost.forfeit) == (0.0, Forfeit.FAULT)


def test_misspelled_failure_raises_naming_the_allowed_values():
    with pytest.raises(ValueError) as raised:
        MoveReply(failure="crsh")
    message = str(raised.value)
    assert "'crsh'" in message
    for allowed in ("crash", "timeout", "error", "context_full"):
        assert repr(allowed) in message
    with pytest.raises(TypeError, match="'crash'"):
        MoveReply(failure=1)  # type: ignore[arg-type]


def test_failure_text_becomes_the_member():
    assert MoveReply(failure="timeout").failure is Failure.TIMEOUT
    assert MoveReply(failure=Failure.CRASH).failure is Failure.CRASH
    assert MoveReply().failure is None


class Misspeller(Player):
    """Reports a failure no arena knows: the reply itself must refuse it."""

    def choose_one(self, request):
        return MoveReply(failure="crsh")


class Mover(Player):
    """Plays its first legal move."""

    def choose_one(self, request):
        return next(iter(request.board.legal_moves))


def test_a_misspelled_failure_in_a_real_game_is_a_player_error_naming_it():
    white = Side(Mover(), PlayerEntry("mover", "test"))
    black = Side(Misspeller(), PlayerEntry("typo", "test"))
    game = Game("g", 1, white, black)
    (finished,) = play_games([game])
    record = finished.record()
    assert record.termination is Termination.PLAYER_ERROR
    assert record.result is Result.WHITE_WINS and record.winner == "mover"
    assert record.black_stats.errors == 1 and record.black_stats.crashes == 0
    assert "'crsh'" in record.detail and "ValueError" in record.detail


def test_a_jsonl_line_written_before_round_trips_unchanged():
    data = json.loads(OLD_LINE)
    record = GameRecord.from_dict(data)
    assert record.result is Result.WHITE_WINS
    assert record.winner == "a" and record.score_for("a") == 1.0 and record.score_for("b") == 0.0
    assert record.forfeit is Forfeit.ILLEGAL
    assert record.to_dict() == data
    assert json.dumps(record.to_dict(), separators=(",", ":")) == OLD_LINE
    assert record.to_pgn().headers["Result"] == "1-0"


def test_a_record_built_from_a_results_text_holds_a_result():
    white, black = PlayerEntry("a", "t"), PlayerEntry("b", "t")
    record = GameRecord("g", 1, white, black, "0-1", Termination.CHECKMATE)  # type: ignore[arg-type]
    assert record.result is Result.BLACK_WINS and record.winner == "b" and record.score_for("b") == 1.0


def test_a_line_with_no_result_is_refused():
    data = {**json.loads(OLD_LINE), "result": "*"}
    with pytest.raises(ValueError, match="'\\*' is not a game result"):
        GameRecord.from_dict(data)


def test_move_cap_result_is_parsed_when_the_rules_are_made():
    assert GameRules(move_cap_result="1-0").move_cap_result is Result.WHITE_WINS
    assert GameRules(move_cap_result="eval").move_cap_result == "eval"
    with pytest.raises(ValueError, match="not a game result"):
        GameRules(move_cap_result="draw")


def _pgn(termination: str, result: str, arena_termination: str | None = None) -> str:
    extra = f'[ArenaTermination "{arena_termination}"]\n' if arena_termination else ""
    return (f'[White "w"]\n[Black "b"]\n[Result "{result}"]\n[Termination "{termination}"]\n{extra}\n'
            f"1. e4 e5 {result}\n\n")


def test_pgn_termination_tags_are_classified_as_arenas_own(tmp_path):
    path = tmp_path / "games.pgn"
    # Each of arena's terminations as another tool writes it (the standard's value only), and as arena does.
    texts = [_pgn(termination.pgn_value, "0-1") for termination in Termination]
    texts += [_pgn(termination.pgn_value, "0-1", termination.value) for termination in Termination]
    path.write_text("".join(texts))
    results = read_pgn_games(path).results
    assert len(results) == 2 * len(Termination)
    standard, own = results[: len(Termination)], results[len(Termination):]
    for termination, read, tagged in zip(Termination, standard, own):
        assert read.forfeit is termination.forfeit, termination
        assert tagged.forfeit is termination.forfeit, termination
        assert read.score == tagged.score == 0.0


@pytest.mark.parametrize(
    ("tag", "termination"),
    [("Time forfeit", Termination.TIME_FORFEIT), ("rules infraction", Termination.ILLEGAL_MOVE),
     ("abandoned", Termination.CRASH), ("emergency", Termination.PLAYER_ERROR),
     ("adjudication", Termination.ADJUDICATION), ("crash", Termination.CRASH), ("normal", None),
     ("unterminated", None), ("", None)],
)
def test_pgn_termination_values_map_onto_arenas(tag, termination):
    assert Termination.from_pgn(tag) is termination


def test_pgn_results_score_through_result_and_unfinished_games_are_skipped(tmp_path):
    path = tmp_path / "games.pgn"
    path.write_text(_pgn("normal", "1-0") + _pgn("normal", "1/2-1/2") + _pgn("normal", "*")
                    + _pgn("time forfeit", "1/2-1/2"))
    games = read_pgn_games(path)
    assert [(r.score, r.forfeit) for r in games.results] == [(1.0, None), (0.5, None), (0.5, None)]
    assert [(s.number, s.detail) for s in games.skipped] == [(3, "no result ('*')")]


@pytest.mark.parametrize("start_fen, black, max_moves", [
    (None, Mover(), 30),  # a long game from the start position: move numbers past 9
    ("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 12", Mover(), 3),  # Black first, move 12
    (None, Misspeller(), 5),  # no move by Black at all: a forfeit, its detail as the comment
    ("7k/8/8/8/8/8/8/K6R w - - 0 1", Mover(), 3),  # a custom position: FEN and SetUp tags
])
def test_pgn_text_is_python_chess_pgn_from_the_kept_san(start_fen, black, max_moves):
    game = Game("g", 1, Side(Mover(), PlayerEntry("w", "test")), Side(black, PlayerEntry("b", "test")),
                GameRules(max_moves=max_moves), start_fen=start_fen)
    (finished,) = play_games([game])
    record = finished.record()
    assert record.pgn_text() == str(record.to_pgn())
    assert ("{ " + record.detail in record.pgn_text()) == bool(record.detail)
