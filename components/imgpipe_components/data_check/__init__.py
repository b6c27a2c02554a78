"""data_check: does this run have anything new to train on?"""
