"""Property tests (hypothesis): work in progress."""
