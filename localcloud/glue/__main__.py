import sys

from localcloud.glue.runner import main

sys.exit(main())
