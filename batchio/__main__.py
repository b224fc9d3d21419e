"""``python -m batchio``: the same command group as the ``batchio`` script."""

from .cli import main

if __name__ == "__main__":
    main()
