"""Openings from every config form, with real python-chess parsing and Debian's real Polyglot book."""

from __future__ import annotations

import pickle
from pathlib import Path

import chess
import pytest

from arena.errors import ConfigError
from arena.league.openings import DEBIAN_BOOK, Opening, Openings, load_openings

SOURCE = "configs/test-league.yaml"

PGN = """\
[Event "ruy"]
[ECO "C60"]
[Opening "Ruy Lopez"]

1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 *

[Event "illegal move"]

1. e4 e5 2. Ke3 Nf6 *

[Event "from a position"]
[SetUp "1"]
[FEN "4k3/8/8/8/8/8/4P3/4K3 w - - 0 1"]

1. e4 Kd7 2. Kd2 *

[Event "queen's gambit"]

1. d4 d5 2. c4 *
"""

EPD = """\
rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - id "king pawn";

rnbqkbnr/pppppppp/8/8/3P4/8/PPP1PPPP/RNBQKBNR b KQkq - hmvc 0;
r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - id "two knights"; c0 "a comment";
"""


@pytest.fixture
def book() -> Path:
    assert DEBIAN_BOOK.is_file(), "Debian's gnuchess-book is needed: apt-get install gnuchess-book"
    return DEBIAN_BOOK


def load(config: dict | None, tmp_path: Path, seed: int = 7) -> Openings:
    return load_openings(config, seed, SOURCE, tmp_path)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def play(opening: Opening) -> chess.Board:
    """The opening's final position, failing the test on any illegal move."""
    board = chess.Board() if opening.fen is None else chess.Board(opening.fen)
    assert board.is_valid()
    for uci in opening.moves:
        move = chess.Move.from_uci(uci)
        assert move in board.legal_moves, f"{uci} is illegal in {board.fen()}"
        board.push(move)
    return board


# --- none -----------------------------------------------------------------------------------------


def test_none_gives_the_standard_start(tmp_path: Path) -> None:
    openings = load({"type": "none"}, tmp_path)
    assert [openings.opening(index) for index in range(3)] == [Opening()] * 3
    assert openings.describe()


def test_no_openings_mapping_gives_four_random_plies(tmp_path: Path) -> None:
    openings = load(None, tmp_path)
    starts = [openings.opening(index) for index in range(3)]
    assert all(len(opening.moves) == 4 and opening.fen is None for opening in starts)
    assert len(set(starts)) == 3 and openings.describe() == "4 random plies"


# --- random ---------------------------------------------------------------------------------------


def test_random_plays_exactly_the_plies_asked_for_legally(tmp_path: Path) -> None:
    openings = load({"type": "random", "plies": 6}, tmp_path)
    for index in range(30):
        opening = openings.opening(index)
        assert len(opening.moves) == 6 and opening.fen is None
        assert not play(opening).is_game_over()
    assert openings.describe() == "6 random plies"


def test_random_is_deterministic_whatever_the_order(tmp_path: Path) -> None:
    forward = load({"type": "random", "plies": 8}, tmp_path, seed=11)
    backward = load({"type": "random", "plies": 8}, tmp_path, seed=11)
    first = [forward.opening(index) for index in range(20)]
    second = [backward.opening(index) for index in reversed(range(20))][::-1]
    assert first == second
    assert len(set(first)) == 20, "20 random 8-ply openings should all differ"
    other_seed = load({"type": "random", "plies": 8}, tmp_path, seed=12)
    assert [other_seed.opening(index) for index in range(20)] != first


def test_random_redraws_sequences_that_end_the_game(tmp_path: Path) -> None:
    # Long random walks often end in mate, stalemate or bare kings; none may be handed out.
    openings = load({"type": "random", "plies": 120}, tmp_path)
    for index in range(10):
        opening = openings.opening(index)
        assert len(opening.moves) == 120
        assert not play(opening).is_game_over()


# --- file: PGN ------------------------------------------------------------------------------------


def test_pgn_keeps_good_games_skips_a_broken_one_and_keeps_fen(tmp_path: Path) -> None:
    write(tmp_path, "book.pgn", PGN)
    openings = load({"type": "file", "path": "book.pgn", "order": "sequential"}, tmp_path)
    got = [openings.opening(index) for index in range(3)]
    assert got == [
        Opening(("e2e4", "e7e5", "g1f3", "b8c6", "f1b5", "a7a6"), None, "C60 Ruy Lopez"),
        Opening(("e2e4", "e8d7", "e1d2"), "4k3/8/8/8/8/8/4P3/4K3 w - - 0 1", ""),
        Opening(("d2d4", "d7d5", "c2c4"), None, ""),
    ]
    for opening in got:
        play(opening)
    assert "3 openings, 1 skipped" in openings.describe()
    assert "sequential" in openings.describe()


def test_sequential_order_cycles(tmp_path: Path) -> None:
    write(tmp_path, "book.pgn", PGN)
    openings = load({"type": "file", "path": str(tmp_path / "book.pgn"), "order": "sequential"}, tmp_path)
    first_round = [openings.opening(index) for index in range(3)]
    assert len(set(first_round)) == 3
    assert [openings.opening(index) for index in range(3, 9)] == first_round * 2


def test_plies_truncates_each_line(tmp_path: Path) -> None:
    write(tmp_path, "book.pgn", PGN)
    openings = load({"type": "file", "path": "book.pgn", "order": "sequential", "plies": 2}, tmp_path)
    assert [openings.opening(index).moves for index in range(3)] == [
        ("e2e4", "e7e5"),
        ("e2e4", "e8d7"),
        ("d2d4", "d7d5"),
    ]


def test_random_order_is_deterministic_and_uses_every_line(tmp_path: Path) -> None:
    write(tmp_path, "book.pgn", PGN)
    config = {"type": "file", "path": "book.pgn"}
    openings = load(config, tmp_path, seed=3)
    picks = [openings.opening(index) for index in range(60)]
    assert picks == [load(config, tmp_path, seed=3).opening(index) for index in reversed(range(60))][::-1]
    assert len(set(picks)) == 3, "60 random picks from 3 openings should hit each"
    sequential = load({**config, "order": "sequential"}, tmp_path, seed=3)
    assert picks != [sequential.opening(index) for index in range(60)]
    assert "random order" in openings.describe()


def test_pgn_games_that_end_the_game_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "mates.pgn", '[Event "fool"]\n\n1. f3 e5 2. g4 Qh4# 0-1\n\n[Event "ok"]\n\n1. c4 *\n')
    openings = load({"type": "file", "path": "mates.pgn"}, tmp_path)
    assert {openings.opening(index) for index in range(20)} == {Opening(("c2c4",))}
    # Cut before the mate, the same game is a fine opening.
    cut = load({"type": "file", "path": "mates.pgn", "plies": 3, "order": "sequential"}, tmp_path)
    assert cut.opening(0).moves == ("f2f3", "e7e5", "g2g4")


# --- file: EPD ------------------------------------------------------------------------------------


def test_epd_positions_and_id_names(tmp_path: Path) -> None:
    write(tmp_path, "positions.epd", EPD)
    openings = load({"type": "file", "path": "positions.epd", "order": "sequential"}, tmp_path)
    got = [openings.opening(index) for index in range(3)]
    assert [opening.name for opening in got] == ["king pawn", "", "two knights"]
    assert all(opening.moves == () for opening in got)
    assert got[0].fen == "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"
    assert chess.Board(got[2].fen).piece_at(chess.F3) == chess.Piece.from_symbol("N")
    assert openings.opening(3) == got[0]


def test_epd_skips_bad_lines(tmp_path: Path) -> None:
    write(tmp_path, "mixed.epd", "not a position at all\n8/8/8/8/8/8/8/8 w - -\n" + EPD)
    openings = load({"type": "file", "path": "mixed.epd", "order": "sequential"}, tmp_path)
    assert openings.opening(0).name == "king pawn"
    assert "3 openings, 2 skipped" in openings.describe()


# --- book -----------------------------------------------------------------------------------------


def test_book_openings_are_legal_bounded_and_varied(book: Path, tmp_path: Path) -> None:
    openings = load({"type": "book", "depth": 8}, tmp_path)
    got = [openings.opening(index) for index in range(40)]
    for opening in got:
        assert opening.fen is None
        assert 1 <= len(opening.moves) <= 8
        play(opening)
    assert len(set(got)) >= 20, "weighted book walks from 40 seeds should mostly differ"
    assert len({opening.moves[0] for opening in got}) >= 2
    assert openings.describe() == f"book {book} depth 8"


def test_book_is_deterministic_and_path_can_be_given(book: Path, tmp_path: Path) -> None:
    default = load({"type": "book", "depth": 6}, tmp_path, seed=5)
    explicit = load({"type": "book", "depth": 6, "path": str(book)}, tmp_path, seed=5)
    first = [default.opening(index) for index in range(10)]
    assert first == [explicit.opening(index) for index in reversed(range(10))][::-1]
    assert all(len(opening.moves) == 6 for opening in first), "the Debian book is deeper than 6 plies"


def test_book_stops_where_the_book_ends(book: Path, tmp_path: Path) -> None:
    openings = load({"type": "book", "depth": 400}, tmp_path)
    lengths = [len(openings.opening(index).moves) for index in range(5)]
    assert all(0 < length < 400 for length in lengths)


# --- pickling -------------------------------------------------------------------------------------


def test_every_kind_survives_pickling(book: Path, tmp_path: Path) -> None:
    write(tmp_path, "book.pgn", PGN)
    write(tmp_path, "positions.epd", EPD)
    configs = [
        None,
        {"type": "random", "plies": 4},
        {"type": "file", "path": "book.pgn"},
        {"type": "file", "path": "positions.epd", "order": "sequential"},
        {"type": "book", "depth": 8},
    ]
    for config in configs:
        openings = load(config, tmp_path)
        copy = pickle.loads(pickle.dumps(openings))
        assert [copy.opening(index) for index in range(10)] == [
            openings.opening(index) for index in range(10)
        ]
        assert copy.describe() == openings.describe()


# --- validation -----------------------------------------------------------------------------------


def error_for(config: object, tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_openings(config, 1, SOURCE, tmp_path)  # type: ignore[arg-type]
    message = str(caught.value)
    assert SOURCE in message
    return message


def test_unknown_type_lists_known_ones(tmp_path: Path) -> None:
    message = error_for({"type": "magic"}, tmp_path)
    assert "openings.type" in message and "'magic'" in message
    for known in ("none", "random", "file", "book"):
        assert known in message


def test_missing_type_and_non_mapping(tmp_path: Path) -> None:
    assert "openings.type" in error_for({"plies": 4}, tmp_path)
    assert "openings" in error_for(["random"], tmp_path)


def test_unknown_key_lists_allowed_ones(tmp_path: Path) -> None:
    message = error_for({"type": "random", "plies": 4, "depth": 3}, tmp_path)
    assert "openings.depth" in message and "plies" in message
    message = error_for({"type": "file", "path": "x.pgn", "ordre": "random"}, tmp_path)
    assert "openings.ordre" in message and "order" in message


@pytest.mark.parametrize("value", [0, -3, 2.5, "8", True, None])
@pytest.mark.parametrize("kind, key", [("random", "plies"), ("file", "plies"), ("book", "depth")])
def test_bad_plies_and_depth(kind: str, key: str, value: object, tmp_path: Path) -> None:
    write(tmp_path, "book.pgn", PGN)
    config = {"type": kind, key: value, **({"path": "book.pgn"} if kind == "file" else {})}
    message = error_for(config, tmp_path)
    assert f"openings.{key}" in message and repr(value) in message and "positive integer" in message


@pytest.mark.parametrize("kind, key", [("random", "plies"), ("book", "depth"), ("file", "path")])
def test_missing_required_key(kind: str, key: str, tmp_path: Path) -> None:
    assert f"openings.{key}" in error_for({"type": kind}, tmp_path)


def test_bad_order(tmp_path: Path) -> None:
    write(tmp_path, "book.pgn", PGN)
    message = error_for({"type": "file", "path": "book.pgn", "order": "shuffled"}, tmp_path)
    assert "openings.order" in message and "'shuffled'" in message and "sequential" in message


def test_missing_file_shows_the_resolved_path(tmp_path: Path) -> None:
    message = error_for({"type": "file", "path": "nowhere/lines.pgn"}, tmp_path)
    assert "openings.path" in message and str(tmp_path / "nowhere" / "lines.pgn") in message
    message = error_for({"type": "book", "depth": 4, "path": "missing.bin"}, tmp_path)
    assert "openings.path" in message and str(tmp_path / "missing.bin") in message


def test_wrong_extension(tmp_path: Path) -> None:
    write(tmp_path, "lines.txt", "1. e4 *\n")
    message = error_for({"type": "file", "path": "lines.txt"}, tmp_path)
    assert "openings.path" in message and "'.txt'" in message and ".pgn" in message and ".epd" in message


@pytest.mark.parametrize("name", ["empty.pgn", "empty.epd"])
def test_empty_file(name: str, tmp_path: Path) -> None:
    write(tmp_path, name, "\n  \n")
    message = error_for({"type": "file", "path": name}, tmp_path)
    assert "openings.path" in message and "empty" in message


def test_file_without_a_usable_opening(tmp_path: Path) -> None:
    write(tmp_path, "broken.pgn", '[Event "x"]\n\n1. e4 e5 2. Ke3 *\n')
    message = error_for({"type": "file", "path": "broken.pgn"}, tmp_path)
    assert "openings.path" in message and "no usable opening" in message and "Ke3" in message


def test_empty_or_foreign_book(tmp_path: Path) -> None:
    write(tmp_path, "empty.bin", "")
    assert "empty" in error_for({"type": "book", "depth": 4, "path": "empty.bin"}, tmp_path)
    write(tmp_path, "odd.bin", "not a book")  # 10 bytes: not a whole number of 16-byte entries
    assert "openings.path" in error_for({"type": "book", "depth": 4, "path": "odd.bin"}, tmp_path)
    (tmp_path / "zeros.bin").write_bytes(bytes(32))  # well-formed entries, none for the start position
    assert "standard start" in error_for({"type": "book", "depth": 4, "path": "zeros.bin"}, tmp_path)


def test_missing_default_book_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Point the default at a path that does not exist, as on a machine without gnuchess-book.
    monkeypatch.setattr("arena.league.openings.DEBIAN_BOOK", tmp_path / "no-such-book.bin")
    message = error_for({"type": "book", "depth": 4}, tmp_path)
    assert "openings.path" in message and "apt-get install gnuchess-book" in message


@pytest.mark.parametrize("config, message", [
    # a wrong type, a value out of range and a misspelled key, for the type and for each type's keys
    (["random"], "openings: ['random'] must be a mapping with a 'type' key, e.g. {type: random, plies: 8}"),
    ({"plies": 4}, "openings.type: is required: one of none, random, file, book"),
    ({"type": 4}, "openings.type: 4 must be one of none, random, file, book"),
    ({"type": "shuffled"}, "openings.type: 'shuffled' must be one of none, random, file, book"),
    ({"type": "none", "plies": 4}, "openings.plies: unknown key; allowed keys: type"),
    ({"type": "random", "plies": "8"}, "openings.plies: '8' must be a positive integer"),
    ({"type": "random", "plies": 8.0}, "openings.plies: 8.0 must be a positive integer: write 8"),
    ({"type": "random", "plies": 0}, "openings.plies: 0 must be a positive integer"),
    ({"type": "random", "plys": 4},
     "openings.plys: unknown key; allowed keys: plies, type (did you mean 'plies'?)"),
    ({"type": "random"}, "openings.plies: is required: a positive integer"),
    ({"type": "file", "path": 5}, "openings.path: 5 must be the path of an existing file"),
    ({"type": "file", "path": "book.pgn", "plies": None}, "openings.plies: None must be a positive integer"),
    ({"type": "file", "path": "book.pgn", "order": "shuffled"},
     "openings.order: 'shuffled' must be one of random, sequential"),
    ({"type": "file", "path": "book.pgn", "plies": -1}, "openings.plies: -1 must be a positive integer"),
    ({"type": "file", "path": "book.pgn", "ordre": "random"},
     "openings.ordre: unknown key; allowed keys: order, path, plies, type (did you mean 'order'?)"),
    ({"type": "file"}, "openings.path: is required: the path of an existing file"),
    ({"type": "book", "depth": True}, "openings.depth: True must be a positive integer"),
    ({"type": "book", "depth": 8, "path": None}, "openings.path: None must be the path of an existing file"),
    ({"type": "book", "depth": -8}, "openings.depth: -8 must be a positive integer"),
    ({"type": "book", "dept": 8},
     "openings.dept: unknown key; allowed keys: depth, path, type (did you mean 'depth'?)"),
])
def test_errors_name_the_file_and_key_path(config: object, message: str, tmp_path: Path) -> None:
    write(tmp_path, "book.pgn", PGN)
    assert error_for(config, tmp_path) == f"{SOURCE}: {message}"
