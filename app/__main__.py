import multiprocessing
import sys

# In a frozen build the decoder worker processes are this same program started again: this runs them.
multiprocessing.freeze_support()

from app.cli import main  # noqa: E402 - after freeze_support: a frozen worker never loads the command line

sys.exit(main())
