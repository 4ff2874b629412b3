import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RevocationEntity } from 'src/revocation/revocation.entity';
import { RevocationService } from 'src/revocation/revocation.service';

@Module({
  exports: [RevocationService],
  imports: [TypeOrmModule.forFeature([RevocationEntity])],
  providers: [RevocationService],
})
export class RevocationModule {}
