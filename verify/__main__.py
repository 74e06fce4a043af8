"""``python -m verify``: the same as the ``pip-verify`` command."""

from verify._cli import console_main

if __name__ == "__main__":
    console_main()
