from owui_dev.cli import main

main()
