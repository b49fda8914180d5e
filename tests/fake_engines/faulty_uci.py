"""A UCI engine that misbehaves on purpose, for fault tests.

Usage: faulty_uci.py MODE [N]
  crash N    play the first legal move, but exit with code 3 on the N-th 'go'
  hang N     answer the first N-1 'go's, then never answer again
  garbage    answer every 'go' with an illegal move
  slow SEC   sleep SEC seconds before every answer
  record SEC LOG  like slow, and append "PID START END" (time.time()) of every search to LOG
  loading SEC LOG  take SEC seconds to answer 'uci', and append "PID START END" of that to LOG
  busy SEC   spend SEC seconds of CPU before every answer
  chunky     write each search's output in pieces that split lines (the scored line: depth 2, cp 20)
"""

import os
import sys
import time

import chess

mode = sys.argv[1]
arg = float(sys.argv[2]) if len(sys.argv) > 2 else 0
board = chess.Board()
searches = 0


def send(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    if words[0] == "uci":
        if mode == "loading":
            started = time.time()
            time.sleep(arg)
            with open(sys.argv[3], "a") as log:
                log.write(f"{os.getpid()} {started} {time.time()}\n")
        send("id name Faulty " + mode)
        send("uciok")
    elif words[0] == "isready":
        send("readyok")
    elif words[0] == "position":
        board = chess.Board()
        if "moves" in words:
            for move in words[words.index("moves") + 1 :]:
                board.push_uci(move)
    elif words[0] == "go":
        searches += 1
        if mode == "crash" and searches >= arg:
            sys.exit(3)
        if mode == "hang" and searches >= arg:
            continue
        if mode == "garbage":
            send("bestmove a1a1")
            continue
        if mode == "chunky":
            move = next(iter(board.legal_moves)).uci()
            pieces = ["info depth 1 score cp 10 nodes 5 pv " + move + "\ninfo dep",
                      "th 2 seldepth 3 score cp 20 nodes 40 pv " + move + "\ninfo string the score is fine\n",
                      "info depth 3 currmove " + move + "\nbestm", "ove " + move + "\n"]
            for piece in pieces:
                sys.stdout.write(piece)
                sys.stdout.flush()
                time.sleep(0.02)
            continue
        if mode == "busy":
            spent = time.process_time()
            while time.process_time() - spent < arg:
                pass
        if mode in ("slow", "record"):
            started = time.time()
            time.sleep(arg)
            if mode == "record":
                with open(sys.argv[3], "a") as log:
                    log.write(f"{os.getpid()} {started} {time.time()}\n")
        send("bestmove " + next(iter(board.legal_moves)).uci())
    elif words[0] == "quit":
        break
