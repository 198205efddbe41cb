/* The cheapest program there is: the floor for a restart is fork + exec + wait of this. */
int main(void) { return 0; }
