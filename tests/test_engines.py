"""Real UCI engines: Stockfish presets and a third-party Debian engine from options alone."""

from __future__ import annotations

import time

import chess
import pytest

from arena import ConfigError, EngineNotFoundError, MoveRequest
from arena.play.game import GameRules
from arena.play.match import Match
from arena.play.record import Termination
from arena.spec import build_player, parse_player_spec
from arena.league.config import load_league
from arena.league.run import LeagueRun
from arena.league.server import start_worker_server
from arena_engines import locate_engine
from conftest import fake_engine, two_engine_league_file


def installed(command: str) -> bool:
    """Whether arena finds the engine (PATH or /usr/games)."""
    try:
        locate_engine(command)
    except EngineNotFoundError:
        return False
    return True


needs_toga2 = pytest.mark.skipif(not installed("toga2"),
                                 reason="Toga II is not installed: engines/install.sh toga2")


def play(plugins, first, second, games, seed=1, rules=GameRules()):
    with Match(parse_player_spec(first), parse_player_spec(second), plugins) as match:
        return match.names, list(match.play(games, seed=seed, rules=rules))


def test_stockfish_skill20_beats_random_every_game(plugins):
    (strong, weak), records = play(plugins, "stockfish:skill=20,nodes=2000", "random", 6)
    assert strong == "stockfish-skill20"
    assert [r.winner for r in records] == [strong] * 6
    assert {r.termination for r in records} == {Termination.CHECKMATE}
    assert records[0].white.info["name"].startswith("Stockfish")
    # Search facts travel with each engine move.
    engine_moves = [m for m in records[0].moves if m.info]
    assert engine_moves and all(m.info["nodes"] > 0 for m in engine_moves)


def test_stockfish_skill0_plays_complete_legal_games(plugins):
    (name, _), records = play(plugins, "stockfish:skill=0,nodes=500", "random", 2)
    assert name == "stockfish-skill0"
    for record in records:
        board = record.board()
        assert board.is_game_over(claim_draw=True) and record.termination.is_forfeit is False
        assert record.white_stats.crashes == record.black_stats.crashes == 0


def test_elo_depth_and_movetime_limits(plugins):
    (name, _), records = play(plugins, "stockfish:elo=1400,movetime=20", "stockfish:depth=2", 2,
                              rules=GameRules(max_moves=20))
    assert name == "stockfish-elo1400"
    assert records[0].white.options == {"elo": 1400, "movetime": 20}
    depths = [
        move.info["depth"]
        for r in records
        for ply, move in enumerate(r.moves)
        if (r.white if ply % 2 == 0 else r.black).name == "stockfish"
    ]
    assert all(r.plies <= 40 for r in records)
    assert records[0].termination in (Termination.MOVE_CAP, Termination.CHECKMATE, Termination.THREEFOLD_REPETITION)
    assert depths and max(depths) <= 2


def test_clock_is_kept_by_the_arena(plugins):
    (_, _), records = play(plugins, "stockfish:skill=5,tc=3+0.1", "random", 1, rules=GameRules(max_moves=15))
    record = records[0]
    assert record.white.time_control == "3+0.1"
    clocks = [m.clock for m in record.moves[0::2]]
    assert all(c is not None for c in clocks)
    assert all(0 < c <= 3 + 0.1 * 16 for c in clocks)
    assert record.to_pgn().headers["TimeControl"] == "?"  # only one side has a clock
    assert record.black.time_control is None


def test_third_party_debian_engine_from_options_alone(plugins):
    (name, _), records = play(plugins, "uci:command=ethereal-chess,movetime=20,options.Hash=8", "random", 2)
    assert name == "ethereal-chess"
    assert records[0].white.info["name"].lower().startswith("ethereal")
    assert all(r.termination in (Termination.CHECKMATE,) or not r.termination.is_forfeit for r in records)
    assert all(r.winner == name for r in records)


def test_bad_engine_options_are_reported_clearly(plugins):
    with pytest.raises(ConfigError, match="no option 'skil'.*skill"):
        build_player(parse_player_spec("stockfish:skil=3"), plugins)
    with pytest.raises(ConfigError, match="skill=25 must be a whole number from 0 to 20"):
        build_player(parse_player_spec("stockfish:skill=25"), plugins)
    with pytest.raises(ConfigError, match="elo=100 is outside"):
        with Match(parse_player_spec("stockfish:elo=100"), parse_player_spec("random"), plugins):
            pass
    with pytest.raises(ConfigError, match="no UCI option 'Hashh'.*Hash"):
        with Match(parse_player_spec("uci:command=stockfish,options.Hashh=8"), parse_player_spec("random"), plugins):
            pass


def test_missing_engine_says_how_to_install(plugins, monkeypatch):
    with pytest.raises(EngineNotFoundError, match="apt-get install no-such-engine"):
        with Match(parse_player_spec("uci:command=no-such-engine"), parse_player_spec("random"), plugins):
            pass
    monkeypatch.setenv("ARENA_STOCKFISH", "/nonexistent/stockfish")
    with pytest.raises(EngineNotFoundError, match="apt-get install stockfish.*ARENA_STOCKFISH"):
        with Match(parse_player_spec("stockfish:skill=1"), parse_player_spec("random"), plugins):
            pass


def test_engine_move_is_legal_in_the_position_it_was_asked(plugins):
    player = build_player(parse_player_spec("stockfish:nodes=1000"), plugins)
    player.start()
    try:
        from arena import MoveRequest

        board = chess.Board("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1")
        reply = player.choose([MoveRequest("x", board, seed=1)])[0]
        assert reply.move == chess.Move.from_uci("a1a8")  # mate in one
        assert reply.info.get("mate") == 1
    finally:
        player.close()


def test_engine_output_read_in_pieces_keeps_the_last_scored_info_line(tmp_path, plugins):
    # Lines split across reads, an 'info string' that mentions a score, 'bestmove' cut in two.
    player = build_player(parse_player_spec(f"uci:command={fake_engine(tmp_path, 'chunky')},nodes=1"), plugins)
    player.start()
    try:
        board = chess.Board()
        replies = [player.choose([MoveRequest("x", board, seed=1)])[0] for _ in range(2)]
    finally:
        player.close()
    for reply in replies:
        assert reply.move == next(iter(board.legal_moves)) and reply.failure is None
        assert reply.info == {"depth": 2, "cp": 20, "nodes": 40}


@needs_toga2
def test_an_engine_that_ignores_go_nodes_is_stopped_not_forfeited(plugins, capfd):
    # Toga II answers 'go nodes 5000' with an endless search; before, it lost every game on time.
    player = build_player(parse_player_spec("uci:command=toga2,nodes=5000,timeout=1"), plugins)
    player.start()
    try:
        board = chess.Board()
        first, second = (player.choose([MoveRequest("g", board, seed=1)])[0] for _ in range(2))
    finally:
        player.close()
    for reply in (first, second):
        assert reply.failure is None and reply.move in board.legal_moves
        assert reply.info["stopped_after"] == 1.0
        assert reply.info["nodes"] > 5000  # it did ignore the limit
        assert 1.0 <= reply.elapsed < 1.0 + 2.0
    warning = capfd.readouterr().err
    assert warning.count("arena: warning: toga2 was still searching (nodes=5000) after 1.0 s") == 1
    assert "give it movetime, depth or tc" in warning


@needs_toga2
def test_a_node_limited_toga2_finishes_its_games(plugins):
    (name, _), records = play(plugins, "uci:command=toga2,nodes=5000,timeout=0.3", "random", 2,
                              rules=GameRules(max_moves=3))
    for record in records:
        assert record.termination is Termination.MOVE_CAP, record.detail
        moves = record.moves[0::2] if record.white.name == name else record.moves[1::2]
        assert len(moves) == 3 and all(move.info["stopped_after"] == 0.3 for move in moves)


@needs_toga2
def test_toga2_with_a_movetime_and_uci_options_as_in_the_readme(plugins):
    (name, _), records = play(plugins, "uci:command=toga2,movetime=50,options.Hash=32", "random", 2)
    assert name == "toga2"
    assert records[0].white.info["name"].lower().startswith("toga")
    assert all(r.winner == name and not r.termination.is_forfeit for r in records)
    assert not any("stopped_after" in move.info for r in records for move in r.moves)


def _overlapping(log) -> int:
    """How many pairs of the logged spans (``PID START END``) of different engines overlap in time."""
    spans = [line.split() for line in log.read_text().splitlines()]
    return sum(
        1 for i, (pid, start, end) in enumerate(spans) for other, begin, finish in spans[i + 1:]
        if pid != other and float(begin) < float(end) and float(start) < float(finish)
    )


def _two_engine_league(tmp_path, engine: str, games_in_flight: int) -> LeagueRun:
    """A played league of 2 games, 2 moves each, between players a and b on ``engine``, in one worker."""
    league = two_engine_league_file(tmp_path, engine, games_in_flight=games_in_flight)
    run = LeagueRun(load_league(league, out=tmp_path / "run"))
    run.play()
    return run


def test_a_worker_keeps_several_engines_thinking_at_once(tmp_path):
    # One worker, two games in flight: each game has its own engine processes, and the
    # searches of both games (one per player, colours swapped) run at the same time.
    log = tmp_path / "searches.log"
    engine = fake_engine(tmp_path, "record", "0.3", str(log))
    run = _two_engine_league(tmp_path, engine, games_in_flight=2)
    assert len(run.records) == 2 and all(len(record.moves) == 4 for record in run.records)
    searches = [line.split() for line in log.read_text().splitlines()]
    assert len(searches) == 8 and len({pid for pid, _, _ in searches}) == 4  # an engine per player per game
    assert _overlapping(log) >= 4  # each of the 4 steps ran two 0.3 s searches at once


def test_workers_and_their_engines_see_the_leagues_environment_not_the_fork_servers(tmp_path, monkeypatch):
    # The fork server that workers come from may have started long before, with another environment.
    start_worker_server()
    monkeypatch.setenv("ARENA_TEST_MARK", "set after the server started")
    seen = tmp_path / "seen.txt"
    engine = tmp_path / "engine"
    engine.write_text(f'#!/bin/sh\necho "$ARENA_TEST_MARK" >> {seen}\nexec {fake_engine(tmp_path, "slow", "0")}\n')
    engine.chmod(0o755)
    run = _two_engine_league(tmp_path, str(engine), games_in_flight=1)
    assert len(run.records) == 2
    assert seen.read_text().splitlines() == ["set after the server started"] * 2  # one engine per player


def test_the_engines_of_a_game_load_side_by_side(tmp_path, plugins):
    # Each engine takes 0.5 s to answer 'uci': a game's two players start them at once,
    # in a match and in a league worker, rather than one after the other.
    log = tmp_path / "loading.log"
    engine = fake_engine(tmp_path, "loading", "0.5", str(log))
    with Match(parse_player_spec(f"uci:command={engine},nodes=1"),
               parse_player_spec(f"uci:command={engine},nodes=1"), plugins) as match:
        assert match.names[0] != match.names[1]
    assert len(log.read_text().splitlines()) == 2 and _overlapping(log) == 1
    log.unlink()
    run = _two_engine_league(tmp_path, engine, games_in_flight=1)
    assert len(run.records) == 2 and run.records[0].white.info["name"] == "Faulty loading"
    assert len(log.read_text().splitlines()) == 2 and _overlapping(log) == 1  # the second game reuses them


def test_an_engines_move_time_does_not_count_another_players_thinking(tmp_path, plugins):
    # Two games in flight, colours swapped: each step, one game waits on a slow in-process player
    # and the other on an engine. The engine's search starts only once the slow player has answered.
    from arena.play.driver import play_games
    from arena.play.game import Game, Side
    from arena.play.record import PlayerEntry
    from arena.player import Player

    class Slow(Player):
        def choose_one(self, request):
            time.sleep(0.3)
            return next(iter(request.board.legal_moves))

    engine = build_player(parse_player_spec(f"uci:command={fake_engine(tmp_path, 'slow', '0')},nodes=1"), plugins)
    engine.start()
    slow = Slow()
    try:
        games = [Game(f"g{n}", n, Side(*pair[0]), Side(*pair[1]), GameRules(max_moves=2)) for n, pair in enumerate([
            ((slow, PlayerEntry("slow", "t")), (engine, PlayerEntry("engine", "uci"))),
            ((engine, PlayerEntry("engine", "uci")), (slow, PlayerEntry("slow", "t"))),
        ])]
        records = [game.record() for game in play_games(games, in_flight=2)]
    finally:
        engine.close()
    engine_moves = [move for record in records for index, move in enumerate(record.moves)
                    if (index % 2 == 0) == (record.white.name == "engine")]
    slow_moves = [move for record in records for move in record.moves if move not in engine_moves]
    assert len(engine_moves) == 4 and all(move.elapsed < 0.2 for move in engine_moves)
    assert all(move.elapsed >= 0.3 for move in slow_moves)


def test_a_game_goes_on_while_an_engine_in_another_game_is_still_thinking(tmp_path, plugins):
    # Two games in flight in one loop: one between two quick Stockfish players, one whose
    # first mover takes 2 s per search. The quick game plays to its end meanwhile instead
    # of making one move per slow move.
    from arena.play.driver import play_games
    from arena.play.game import Game, Side
    from arena.play.record import PlayerEntry

    specs = {"quick-a": "stockfish:nodes=1", "quick-b": "stockfish:nodes=1",
             "slow": f"uci:command={fake_engine(tmp_path, 'slow', '2')},nodes=1"}
    players = {name: build_player(parse_player_spec(spec), plugins) for name, spec in specs.items()}
    for player in players.values():
        player.start()

    def side(name):
        return Side(players[name], PlayerEntry(name, "uci"))

    try:
        quick = Game("quick", 1, side("quick-a"), side("quick-b"), GameRules(max_moves=10))
        slow = Game("slow", 2, side("slow"), side("quick-a"), GameRules(max_moves=1))
        finished = []
        for game in play_games([slow, quick], in_flight=2):
            finished.append((game.game_id, len(slow.board.move_stack)))
    finally:
        for player in players.values():
            player.close()
    assert finished == [("quick", 0), ("slow", 2)]  # the quick game's 20 plies came before the slow move
