from onrecord.ui.cli import main

main()
