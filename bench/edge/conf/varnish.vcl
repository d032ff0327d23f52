vcl 4.1;
# Varnish for the bench/edge mix (:18193); storage (-s malloc, the mix budget) in run.sh.
backend origin { .host = "127.0.0.1"; .port = "18180"; }
