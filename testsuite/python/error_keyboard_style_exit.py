import sys
print('partial output')
sys.exit('fatal: something went wrong')
