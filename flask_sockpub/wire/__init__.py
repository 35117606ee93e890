"""The wire: what a socket request looks like, how it is answered, how packets are coded."""
