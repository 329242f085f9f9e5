"""`python -m modelzoo`: the same as the `modelzoo` console script."""

import sys

from modelzoo.cli import main

if __name__ == "__main__":
    sys.exit(main())
