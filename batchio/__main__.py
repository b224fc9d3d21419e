"""``python -m batchio``: the same program as the ``batchio`` script."""

from .cli import run

if __name__ == "__main__":
    run()
