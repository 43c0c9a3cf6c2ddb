"""Pages of the register: visits. (Being written.)"""

urlpatterns: list = []
