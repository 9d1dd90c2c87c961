import sys

from chainrule.app.cli import main

sys.exit(main())
