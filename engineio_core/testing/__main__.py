from engineio_core.testing.contract_server import main

main()
