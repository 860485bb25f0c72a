package catalog

import "time"

func timeAt(i int) time.Time { return time.Unix(1_700_000_000+int64(i), 0) }
